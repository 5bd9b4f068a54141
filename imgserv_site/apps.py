from __future__ import annotations

from django.apps import AppConfig


class ImgservSiteConfig(AppConfig):
    """The composition layer: what needs several apps at once (the REST API, /health and
    /status, the camera's admin page, the `camera` and `doctor` commands). It imports every
    domain app; none of them imports it."""

    name = "imgserv_site"
