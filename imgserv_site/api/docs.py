"""The browsable API docs: Swagger UI from drf-spectacular-sidecar, served as our static files.

The split view loads its start-up script from a URL instead of inline, so the page runs under
`script-src 'self'`. Its template has one inline <style>; the page allows exactly that block by
hash (`csp_extra`, read by imgserv_site.security) rather than all inline styles.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from typing import Any

from django.template.loader import get_template
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response


@functools.cache
def inline_style_hashes(template_name: str) -> tuple[str, ...]:
    source = get_template(template_name).template.source  # type: ignore[attr-defined]
    blocks = re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    return tuple(
        f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks
    )


class DocsView(SpectacularSwaggerSplitView):
    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        response.csp_extra = {"style-src": inline_style_hashes(self.template_name)}
        return response
