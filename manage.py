#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imgserv_site.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from imgserv_site.private_files import protect

    try:
        # Before the settings make the data folder and the secret key: both private from birth.
        protect()
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A bad setting is the operator's to fix: the variable and the fix, not a traceback
        # (settings.py names both in every message it raises).
        sys.exit(f"Configuration error: {exc}")


if __name__ == "__main__":
    main()
