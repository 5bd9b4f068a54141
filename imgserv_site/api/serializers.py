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

from analytics.alerts import ForecastStatus
from analytics.kinds import Light, State, Truth
from analytics.views import MAX_HISTORY_HOURS
from cameras.models import Camera, Health, SourceKind
from cameras.units import SHOWN_UNITS
from publishing.models import TargetKind
from sequences.choices import DigestStatus, OutputFormat, SunPath
from sequences.models import DayDigest

ASCII_INTEGER = re.compile(r"-?[0-9]+")
# What staff may change through the API; everything else is the admin's business.
WRITABLE = ("enabled", "location_name", "update_interval_minutes", "frames_per_sequence", "units")


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


class DayDigestSerializer(serializers.ModelSerializer[DayDigest]):
    """One local date's day at a glance (sequences.digest)."""

    status = serializers.ChoiceField(
        choices=DigestStatus.choices,
        help_text="pending (being built), built, no_frames (none stored that day) or failed "
        "(`error` says why; files of an earlier build may remain).",
    )
    sun_path = serializers.ChoiceField(
        choices=SunPath.choices,
        help_text="rises_and_sets; polar_day and polar_night have no sunrise or sunset; "
        "no_location (the camera has no latitude and longitude) puts the whole day in the MP4.",
    )
    sunrise = serializers.DateTimeField(allow_null=True)
    sunset = serializers.DateTimeField(allow_null=True)
    built_at = serializers.DateTimeField(allow_null=True)
    mp4_url = serializers.SerializerMethodField(help_text="The daylight timelapse; null if none.")
    strip_url = serializers.SerializerMethodField(help_text="The day strip (PNG); null if none.")
    error = serializers.CharField(source="last_error")

    class Meta:
        model = DayDigest
        fields = [
            "date",
            "status",
            "sun_path",
            "sunrise",
            "sunset",
            "frame_count",
            "daylight_frames",
            "skipped_frames",
            "mp4_bytes",
            "strip_bytes",
            "built_at",
            "mp4_url",
            "strip_url",
            "error",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_mp4_url(self, digest: DayDigest) -> str | None:
        return digest.mp4_url() or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_strip_url(self, digest: DayDigest) -> str | None:
        return digest.strip_url() or None


class DayListSerializer(serializers.Serializer):
    camera = serializers.CharField(help_text="The camera's slug.")
    time_zone = serializers.CharField(help_text="The camera's; each `date` is local to it.")
    days = DayDigestSerializer(many=True, help_text="Newest first.")


class CameraSerializer(serializers.ModelSerializer[Camera]):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **INTEGER_FIELDS,
    }
    latest_sequence = serializers.SerializerMethodField()
    display_units = serializers.ChoiceField(
        choices=SHOWN_UNITS,
        read_only=True,
        help_text="The units shown: `units`, or with `auto` the site's UNITS or the location's.",
    )

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
            "units",
            "display_units",
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


class StoredFilesSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    bytes = serializers.IntegerField()
    mb = serializers.FloatField(help_text="MB of 2²⁰ bytes, as MEDIA_QUOTA_MB counts them.")


class StorageSerializer(serializers.Serializer):
    """What frames, sequences and days at a glance take, from the sizes recorded as each file was
    written (no walk of the media folder), against the quota and the disk's free-space floor."""

    used_bytes = serializers.IntegerField(
        help_text="Frames, sequences and days at a glance together."
    )
    used_mb = serializers.FloatField()
    quota_mb = serializers.IntegerField(
        allow_null=True, help_text="MEDIA_QUOTA_MB; null when there is no cap."
    )
    percent_used = serializers.FloatField(
        allow_null=True, help_text="Of the quota; null when there is no cap."
    )
    frames = StoredFilesSerializer()
    sequences = StoredFilesSerializer(help_text="Each sequence's GIF, MP4 and WebP together.")
    days = StoredFilesSerializer(help_text="Days at a glance: each day's MP4 and strip together.")
    free_disk_mb = serializers.IntegerField(help_text="Free space where media are written.")
    min_free_disk_mb = serializers.IntegerField(
        help_text="MIN_FREE_DISK_MB: retention frees the oldest frames to keep this much free."
    )


class SequenceStatusSerializer(SequenceLinkSerializer):
    frame_count = serializers.IntegerField()
    first_captured_at = serializers.DateTimeField()
    last_captured_at = serializers.DateTimeField()
    gif_bytes = serializers.IntegerField()
    build_seconds = serializers.FloatField()
    bytes = serializers.DictField(child=serializers.IntegerField(), help_text="Per format.")


class ConditionsStatusSerializer(serializers.Serializer):
    """The published road state, temperature and alerts, as the viewer shows them."""

    state = serializers.ChoiceField(
        choices=State.choices, allow_null=True, help_text="Null: no current reading."
    )
    # `style` and `label` are also attributes of every DRF field; the serializer's metaclass
    # takes declared fields out of the class, so only the type checker sees a clash.
    style = serializers.CharField(  # type: ignore[assignment]
        help_text="The colour key: a snow level, dry, wet, …"
    )
    label = serializers.CharField(  # type: ignore[assignment]
        allow_null=True, help_text="Null when Unknown or no reading."
    )
    level = serializers.CharField(allow_null=True, help_text="The closed product's wording.")
    reason = serializers.CharField(allow_blank=True)
    measured_at = serializers.DateTimeField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    temperature_c = serializers.FloatField(allow_null=True, help_text="Always °C; null: unknown.")
    temperature = serializers.CharField(
        allow_blank=True, help_text='As shown, in `units`: "−2.5 °C", "27.5 °F"; empty: unknown.'
    )
    units = serializers.ChoiceField(choices=SHOWN_UNITS)
    alerts = serializers.ListField(
        child=serializers.CharField(), help_text='Worded in `units` ("Snow 1–2 in from Tue 03:00").'
    )
    forecast = serializers.ChoiceField(choices=ForecastStatus.choices)
    forecast_message = serializers.CharField(allow_blank=True)


class CameraStatusSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    location_name = serializers.CharField()
    time_zone = serializers.CharField()
    enabled = serializers.BooleanField()
    source_kind = serializers.ChoiceField(choices=SourceKind.choices)
    health = serializers.ChoiceField(choices=Health.choices)
    last_frame_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    frames_stored = serializers.IntegerField()
    sequences_stored = serializers.IntegerField()
    days_stored = serializers.IntegerField(help_text="Its days at a glance.")
    stored_mb = serializers.FloatField(
        help_text="Its frames, sequences and days at a glance together."
    )
    update_interval_minutes = serializers.IntegerField()
    units = serializers.ChoiceField(choices=SHOWN_UNITS, help_text="The units it shows.")
    last_build_error = serializers.CharField(allow_blank=True)
    last_sequence = SequenceStatusSerializer(allow_null=True)
    conditions = ConditionsStatusSerializer()


class StatusSerializer(serializers.Serializer):
    """The body of /status and /api/status."""

    version = serializers.CharField()
    generated_at = serializers.DateTimeField()
    healthy = serializers.BooleanField(help_text="Every check is ok.")
    checks = serializers.DictField(child=CheckSerializer())
    storage = StorageSerializer()
    cameras = CameraStatusSerializer(many=True)
    publishing = PublishTargetSerializer(many=True)
