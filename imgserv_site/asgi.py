"""The entry point daphne serves (`imgserv_site.asgi:application`): the process's files are
made private first (imgserv_site.private_files), then the application of
imgserv_site.routing is served."""

from __future__ import annotations

import os

from imgserv_site.private_files import protect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imgserv_site.settings")
# Before the settings make the data folder and the secret key: both private from birth.
protect()

from imgserv_site.routing import application  # noqa: E402

__all__ = ["application"]
