"""Thin views: cameras, the latest sequence, status, health, analytics and publish state.

Reading is public and throttled per client (REST_FRAMEWORK's defaults); changing a camera
needs staff (`ReadOnlyOrStaff`).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from django.views.defaults import page_not_found
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.labelling import agreement_body
from analytics.views import current_payload, history_payload
from cameras.models import Camera
from imgserv_site.api.schema import VALIDATION_ERROR, ErrorSerializer
from imgserv_site.api.serializers import (
    AgreementSerializer,
    CameraSerializer,
    DayListSerializer,
    HealthSerializer,
    HistoryQuerySerializer,
    PublishTargetSerializer,
    SequenceSerializer,
    StatusSerializer,
)
from imgserv_site.health import run_checks
from imgserv_site.views.status import StatusView, sequence_status
from publishing.models import publish_state


class CameraList(generics.ListAPIView[Camera]):
    """Every camera, public fields only."""

    queryset = Camera.objects.all()
    serializer_class = CameraSerializer


class CameraDetail(generics.RetrieveUpdateAPIView[Camera]):
    """One camera. PATCH (staff only) changes `enabled`, `location_name`,
    `update_interval_minutes`, `frames_per_sequence` and `units`; bad values answer 400 by
    field."""

    queryset = Camera.objects.all()
    serializer_class = CameraSerializer
    lookup_field = "slug"
    # No PUT: a camera has more fields than the API may set, so replacing it whole makes no sense.
    http_method_names = ["get", "patch", "head", "options"]
    # JSON only: in a form every value is a string, so "0" would pass for a boolean the schema
    # says must be true or false.
    parser_classes = [JSONParser]


class LatestSequenceView(APIView):
    @extend_schema(
        responses={
            200: SequenceSerializer,
            404: OpenApiResponse(
                ErrorSerializer, description="No camera has this slug, or it has no sequence yet."
            ),
        }
    )
    def get(self, request: Request, slug: str) -> Response:
        """The camera's latest sequence: when it was built, its frames and the file URLs."""
        camera = get_object_or_404(Camera, slug=slug)
        sequence = camera.sequences.first()
        if sequence is None:
            raise NotFound("No sequence has been built for this camera yet.")
        body = {"camera": camera.slug, **(sequence_status(sequence) or {})}
        return Response(SequenceSerializer(body).data)


class DayListView(APIView):
    @extend_schema(
        responses={
            200: DayListSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No camera has this slug."),
        }
    )
    def get(self, request: Request, slug: str) -> Response:
        """The camera's days at a glance, newest first: per local date a timelapse MP4 of the
        daylight frames and a strip of the road across the 24 hours, with sunrise and sunset
        at the camera's position. Kept for DAY_DIGEST_KEEP_DAYS days."""
        camera = get_object_or_404(Camera, slug=slug)
        body = {
            "camera": camera.slug,
            "time_zone": camera.time_zone,
            "days": camera.day_digests.order_by("-date").select_related("camera"),
        }
        return Response(DayListSerializer(body).data)


class AnalyticsView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, slug: str) -> Response:
        """The latest condition reading, the alerts in force and the forecast."""
        return Response(current_payload(get_object_or_404(Camera, slug=slug)))


class AnalyticsHistoryView(APIView):
    @extend_schema(
        parameters=[HistoryQuerySerializer],
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(VALIDATION_ERROR, description="`hours` is not 1–168."),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        """The condition readings of the last `hours`, oldest first."""
        camera = get_object_or_404(Camera, slug=slug)
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(history_payload(camera, query.validated_data["hours"]))


class AgreementView(APIView):
    @extend_schema(responses=AgreementSerializer)
    def get(self, request: Request, slug: str) -> Response:
        """How often the camera's published state agreed with the operators' labels over the
        last 30 days (a matrix of label × state), the thresholds the labels moved, and the
        camera's learned bare road per light."""
        camera = get_object_or_404(Camera, slug=slug)
        return Response(AgreementSerializer(agreement_body(camera)).data)


class ApiStatusView(StatusView):
    @extend_schema(responses=StatusSerializer)
    def get(self, request: Request) -> Response:
        """The same body as /status: each camera's health, last frame, last sequence, stored
        frames and sequences and its conditions in its units; the installation's checks,
        storage (MB used, quota, % used, counts, free disk), version and publish state."""
        return super().get(request)


class HealthView(APIView):
    @extend_schema(
        responses={
            200: HealthSerializer,
            503: OpenApiResponse(HealthSerializer, description="A check failed; it says which."),
        }
    )
    def get(self, request: Request) -> Response:
        """200 when the database, a worker and the disk are fine; 503 naming what is not."""
        checks = run_checks()
        ok = all(c["ok"] for c in checks.values())
        response = Response(
            {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
        )
        add_never_cache_headers(response)
        return response


class PublishingView(APIView):
    @extend_schema(responses=PublishTargetSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Publish state per target (no hosts, users or paths); empty without publishing."""
        return Response(publish_state())


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 handler (urls.py). Under /api/ the body is JSON like every other API
    answer, so that a path no URL pattern takes (a slug with a space, say) reads as the same
    404 as an unknown camera; elsewhere it is Django's page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
