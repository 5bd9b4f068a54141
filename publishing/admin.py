from __future__ import annotations

from django.contrib import admin

from publishing.models import PublishRun, PublishTarget


@admin.register(PublishTarget)
class PublishTargetAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "destination",
        "enabled",
        "last_success_at",
        "consecutive_failures",
        "last_error",
    ]
    list_filter = ["kind", "enabled"]
    readonly_fields = [
        "last_success_at",
        "next_attempt_at",
        "consecutive_failures",
        "last_error",
        "current_release",
    ]
    fieldsets = [
        (None, {"fields": ["name", "kind", "enabled", "remote_path"]}),
        ("rsync over SSH", {"fields": ["host", "port", "user", "identity_file", "host_key"]}),
        ("State", {"fields": list(readonly_fields)}),
    ]


@admin.register(PublishRun)
class PublishRunAdmin(admin.ModelAdmin):
    list_display = ["target", "started_at", "seconds", "outcome", "files", "bytes", "error"]
    list_filter = ["outcome", "target"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
