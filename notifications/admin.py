"""Targets (with a "send a test" action), the delivery log with attempts and last errors,
and the incidents they told of."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from notifications import services, tasks
from notifications.models import (
    Delivery,
    DeliveryStatus,
    Incident,
    NotificationTarget,
    Topic,
)


class NotificationTargetForm(forms.ModelForm):
    topics = forms.MultipleChoiceField(
        choices=Topic.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=Topic.values,
        help_text="What this target is sent.",
    )
    # Never sent back to the browser, like a camera's password.
    secret = forms.CharField(
        label="Shared secret",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Webhooks: signs each body (X-Imgserv-Signature-256: sha256=HMAC-SHA256 of "
        "the body, hex). At least 16 characters. Leave empty to keep the stored one.",
    )

    class Meta:
        model = NotificationTarget
        fields = ["name", "channel", "url", "secret", "email", "topics", "cameras", "enabled"]

    def clean_secret(self) -> str:
        given: str = self.cleaned_data.get("secret") or ""
        return given or (self.instance.secret if self.instance.pk else "")


@admin.register(NotificationTarget)
class NotificationTargetAdmin(admin.ModelAdmin):
    form = NotificationTargetForm
    list_display = ["name", "channel", "destination", "topic_list", "enabled", "last_delivery"]
    list_filter = ["channel", "enabled"]
    filter_horizontal = ["cameras"]
    actions = ["send_test"]

    @admin.display(description="sends")
    def topic_list(self, obj: NotificationTarget) -> str:
        return ", ".join(obj.topics) or "nothing"

    @admin.display(description="last delivery")
    def last_delivery(self, obj: NotificationTarget) -> str:
        last = obj.deliveries.exclude(status=DeliveryStatus.HELD).first()
        if last is None:
            return "—"
        when = timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M")
        text = f"{when} {last.get_event_display()}: {last.get_status_display()}"
        return f"{text} ({last.last_error})" if last.last_error else text

    @admin.action(description="Send a test notification")
    def send_test(self, request: HttpRequest, queryset: QuerySet[NotificationTarget]) -> None:
        """Sent now, from this request, so the outcome shows at once (one attempt, no retry:
        a few seconds' wait at most, NOTIFY_TIMEOUT_S or EMAIL_TIMEOUT)."""
        for target in queryset:
            delivery = services.test_delivery(target)
            tasks.deliver(delivery.pk, retry=False)
            delivery.refresh_from_db()
            if delivery.status == DeliveryStatus.SENT:
                self.message_user(request, f"Test sent to {target} ({target.destination}).")
            else:
                self.message_user(
                    request,
                    f"Test to {target} failed: {delivery.last_error}",
                    level=messages.ERROR,
                )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "target",
        "event",
        "summary",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    ]
    list_filter = ["status", "event", "target"]
    list_select_related = ["target"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry_now"]

    @admin.display(description="summary")
    def summary(self, obj: Delivery) -> str:
        return str(obj.payload.get("summary", ""))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Try again now", permissions=["view"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        chosen = list(queryset.filter(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.FAILED]))
        Delivery.objects.filter(pk__in=[d.pk for d in chosen]).update(
            status=DeliveryStatus.QUEUED, next_attempt_at=timezone.now(), claimed_until=None
        )
        services.queue(chosen)
        self.message_user(request, f"{len(chosen)} delivery(ies) queued again.")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["kind", "subject", "opened_at", "closed_at"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in Incident._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
