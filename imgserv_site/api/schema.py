"""The OpenAPI schema says what the API really does: which operations need credentials, and
every status each one can answer with its body. tests/api/test_contract.py holds the live
server to it with schemathesis.

drf-spectacular documents the success only, and puts token/cookie security on every operation
although reading is public. `ApiAutoSchema` derives both from what the view's own classes do:
its permissions (who may call it), its authenticators (a bad token is refused before anything
else), its throttles (who is limited) and its path (a camera slug can be unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny

from imgserv_site.api.permissions import ReadOnlyOrStaff

Endpoint = tuple[str, str, str, Callable[..., Any]]


def only_api_paths(endpoints: list[Endpoint], **kwargs: Any) -> list[Endpoint]:
    """drf-spectacular preprocessing hook: document /api/ only. /status, /analytics and the
    viewer are DRF views too, but their contract is the pages and the README, not the API."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


class ErrorSerializer(serializers.Serializer):
    """DRF's body for a refused request (401, 403, 404, 415, 429)."""

    detail = serializers.CharField(help_text="What was wrong, in words.")


# A refused body or query: per field (or `non_field_errors`) its messages; a body that could
# not be parsed at all gets `detail` instead.
VALIDATION_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "Per field, what was wrong with it; `detail` when the body could not be read.",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
}

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds until this client may ask again.",
        "required": True,
    }
}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "schema": {"type": "string"},
        "description": "`Token`: the scheme to authenticate with.",
        "required": True,
    }
}


class ApiAutoSchema(AutoSchema):
    def is_public(self) -> bool:
        """Anyone may call it: a read under `ReadOnlyOrStaff`, or `AllowAny`."""
        read = self.method in SAFE_METHODS
        return all(
            isinstance(p, AllowAny) or (read and isinstance(p, ReadOnlyOrStaff))
            for p in self.view.get_permissions()
        )

    def _map_serializer(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> Any:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request":
            # Fields a body may not set are refused with 400 (CameraSerializer.validate), not
            # ignored: say so, or a client would think them accepted.
            schema["additionalProperties"] = False
        return schema

    def get_auth(self) -> list[dict[str, list[Any]]]:
        # Called for its side effect too: it registers the security schemes in the components.
        auths: list[dict[str, list[Any]]] = super().get_auth()
        return [] if self.is_public() else auths

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, (description, headers) in self.refusals().items():
            if code == "400":
                body: Any = VALIDATION_ERROR
            else:
                body = ErrorSerializer
            documented = responses.setdefault(code, self._get_response_for_code(body, code))
            if not documented.get("description"):
                documented["description"] = description
            if headers:
                documented.setdefault("headers", {}).update(headers)
        return dict(sorted(responses.items()))

    def refusals(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Each status this operation can be refused with, what it means and its headers."""
        public = self.is_public()
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        if self.view.get_authenticators():
            found["401"] = (
                "The Authorization header holds no valid token (reading needs none)."
                if public
                else "No valid token or session: authenticate as staff.",
                WWW_AUTHENTICATE,
            )
        if not public:
            found["403"] = (
                "Authenticated, but not staff; or a session request without its CSRF token.",
                {},
            )
        elif self.view.get_throttles():
            # Not for staff-only operations: permissions are checked before the rate, and
            # staff are not limited.
            found["429"] = ("Too many requests from this client (PUBLIC_RATE).", RETRY_AFTER)
        if "{slug}" in self.path:
            found["404"] = ("No camera has this slug.", {})
        if self.method not in SAFE_METHODS:
            found["400"] = ("The body was refused; nothing was changed.", {})
            found["415"] = ("The body is not JSON.", {})
        return found
