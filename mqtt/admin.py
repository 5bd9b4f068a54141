from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mqtt.models import BrokerConnection


@admin.register(BrokerConnection)
class BrokerConnectionAdmin(admin.ModelAdmin):
    """Read only: the worker nodes write these rows."""

    list_display = (
        "node",
        "broker",
        "state",
        "since",
        "last_error",
        "last_error_at",
        "published",
        "dropped",
        "updated_at",
    )
    readonly_fields = list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
