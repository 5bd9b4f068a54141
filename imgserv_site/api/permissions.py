from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission

# Loaded by DRF's settings while rest_framework.views is still importing: types only.
if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ReadOnlyOrStaff(BasePermission):
    """Anyone may read; only staff may change anything (cameras decide what is captured).

    A method the view does not have is let through, so that it answers 405 with its `Allow`
    header, as the schema promises, instead of asking for credentials it would not take."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS or request.method not in view.allowed_methods:
            return True
        return bool(request.user and request.user.is_staff)
