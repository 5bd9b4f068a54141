"""What the API shows and accepts. Cameras: public fields only, never the source URL, user
name, password or source settings, which may hold hosts and credentials."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analytics.kinds import Light, State, Truth
from analytics.views import MAX_HISTORY_HOURS
from cameras.models import Camera
from publishing.models import TargetKind
from sequences.choices import OutputFormat

ASCII_INTEGER = re.compile(r"-?[0-9]+")
# What staff may change through the API; everything else is the admin's business.
WRITABLE = ("enabled", "location_name", "update_interval_minutes", "frames_per_sequence")


class AsciiIntegerField(serializers.IntegerField):
    """An integer written in ASCII digits. DRF's field takes whatever `int()` takes, so "٥"
    (Arabic-Indic five) was 5, and "1_0" was 10."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and not ASCII_INTEGER.fullmatch(data.strip()):
            self.fail("invalid")
        return int(super().to_internal_value(data))


# Every model integer field the API writes is read as ASCII digits.
INTEGER_FIELDS = {
    model_field: AsciiIntegerField
    for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
    if field is serializers.IntegerField
}


def wrong_json_type(field: serializers.Field | None, value: Any) -> str | None:
    """The JSON type `field` takes, when `value` is not of it; None when it is (or is null, which
    the field itself judges, or the field is unknown or read-only)."""
    if field is None or field.read_only or value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "true or false"
    choices = getattr(field, "choices", None) or {}
    whole = isinstance(field, serializers.IntegerField) or (
        isinstance(field, serializers.ChoiceField) and all(isinstance(c, int) for c in choices)
    )
    if whole:
        return None if isinstance(value, int) and not isinstance(value, bool) else "a whole number"
    if isinstance(field, serializers.CharField | serializers.ChoiceField):
        return None if isinstance(value, str) else "a string"
    return None


class SequenceLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    built_at = serializers.DateTimeField()
    url = serializers.CharField(help_text="The loop in the best format the client accepts.")
    urls = serializers.DictField(
        child=serializers.CharField(), help_text="Per built format (gif, mp4, webp)."
    )


class SequenceSerializer(SequenceLinkSerializer):
    """The latest sequence's metadata, as in /status's `last_sequence`."""

    camera = serializers.CharField(help_text="The camera's slug.")
    frame_count = serializers.IntegerField()
    first_captured_at = serializers.DateTimeField()
    last_captured_at = serializers.DateTimeField()
    build_seconds = serializers.FloatField()
    bytes = serializers.DictField(child=serializers.IntegerField(), help_text="Per format.")


class CameraSerializer(serializers.ModelSerializer[Camera]):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **INTEGER_FIELDS,
    }
    latest_sequence = serializers.SerializerMethodField()

    class Meta:
        model = Camera
        fields = [
            "name",
            "slug",
            "location_name",
            "time_zone",
            "latitude",
            "longitude",
            "enabled",
            "health",
            "last_frame_at",
            "update_interval_minutes",
            "frames_per_sequence",
            "latest_sequence",
        ]
        read_only_fields = [f for f in fields if f not in WRITABLE]

    @extend_schema_field(SequenceLinkSerializer(allow_null=True))
    def get_latest_sequence(self, camera: Camera) -> dict[str, Any] | None:
        sequence = camera.sequences.first()
        if sequence is None:
            return None
        return {
            "id": sequence.pk,
            "built_at": sequence.built_at,
            "url": sequence.get_absolute_url(),
            "urls": {k.value: sequence.url_for(k) for k in OutputFormat if sequence.file_for(k)[0]},
        }

    def to_internal_value(self, data: Any) -> Any:
        """Each value of the JSON body (the only kind CameraDetail parses) must be of the type
        the schema gives it: DRF alone takes 0 for false, "5" for 5 and 5 for "5"."""
        if isinstance(data, Mapping):
            wrong = {
                name: [f"Must be {kind}."]
                for name, value in data.items()
                if (kind := wrong_json_type(self.fields.get(name), value))
            }
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Refuse fields that cannot be changed here (rather than ignore them), then apply the
        model's own validation, so the API accepts exactly what the admin accepts."""
        refused = sorted(set(self.initial_data) - set(WRITABLE))
        if refused:
            raise serializers.ValidationError(
                {name: "This field cannot be changed through the API." for name in refused}
            )
        if self.instance is not None:
            candidate = copy.copy(self.instance)
            for name, value in attrs.items():
                setattr(candidate, name, value)
            try:
                candidate.full_clean()
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.message_dict) from exc
        return attrs

    def update(self, instance: Camera, validated_data: dict[str, Any]) -> Camera:
        for name, value in validated_data.items():
            setattr(instance, name, value)
        # Only the changed columns: capture writes health and last frame time concurrently,
        # and a full save would put back the values read at the start of this request.
        instance.save(update_fields=list(validated_data))
        return instance


class CheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "fail"])
    checks = serializers.DictField(child=CheckSerializer())


class HistoryQuerySerializer(serializers.Serializer):
    hours = AsciiIntegerField(
        default=24,
        min_value=1,
        max_value=MAX_HISTORY_HOURS,
        help_text=f"How far back, 1–{MAX_HISTORY_HOURS} hours.",
    )


class LearnedRoadSerializer(serializers.Serializer):
    light = serializers.ChoiceField(choices=Light.choices)
    samples = serializers.IntegerField(help_text="Dry frames learned from.")
    updated_at = serializers.DateTimeField(allow_null=True, help_text="Null: never learned.")
    in_use = serializers.BooleanField(help_text="Enough frames to be compared with.")


class AgreementSerializer(serializers.Serializer):
    """How often the published state matched the operators' labels, what the labels changed
    and the camera's learned bare road per light."""

    camera = serializers.CharField(help_text="The camera's slug.")
    days = serializers.IntegerField(help_text="The labels of this many past days count.")
    labels = serializers.ListField(child=serializers.ChoiceField(choices=Truth.choices))
    states = serializers.ListField(child=serializers.ChoiceField(choices=State.choices))
    matrix = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="Per label, the count of each published state: matrix[label][state].",
    )
    right = serializers.IntegerField()
    wrong = serializers.IntegerField()
    abstained = serializers.IntegerField(help_text="The state was Unknown.")
    right_share = serializers.FloatField(
        allow_null=True, help_text="Right among the claims (abstentions left out); null: none."
    )
    adjustments = serializers.ListField(
        child=serializers.CharField(), help_text="Each threshold the labels moved, in words."
    )
    reference = LearnedRoadSerializer(many=True)


class PublishTargetSerializer(serializers.Serializer):
    """One publish target's state (publishing.models.TargetState): no host, user or path."""

    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=TargetKind.choices)
    enabled = serializers.BooleanField()
    last_success_at = serializers.DateTimeField(allow_null=True, help_text="Null: never yet.")
    lag_seconds = serializers.FloatField(
        allow_null=True,
        help_text="How long the public copy has been behind the newest build; 0 when current, "
        "null before the first build.",
    )
    last_error = serializers.CharField(allow_blank=True, help_text="Empty after a success.")
    consecutive_failures = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="After failures: not retried before this."
    )
