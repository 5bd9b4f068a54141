from __future__ import annotations

import datetime as dt
from io import StringIO

from django.core.management import call_command

from cameras.models import Frame
from tests.factories import frames

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_it_reports_without_deleting_on_a_dry_run(camera, settings):
    settings.FRAME_RETENTION_HOURS = 1
    frames(camera, 12, START)
    out = StringIO()
    call_command("cleanup", "--dry-run", stdout=out)
    assert "Would delete 0 sequences and 7 frames" in out.getvalue()
    assert Frame.objects.count() == 12


def test_it_frees_what_it_reported(camera, settings):
    settings.FRAME_RETENTION_HOURS = 1
    frames(camera, 12, START)
    out = StringIO()
    call_command("cleanup", stdout=out)
    assert "Deleted 0 sequences and 7 frames" in out.getvalue()
    assert Frame.objects.count() == camera.frames_per_sequence
