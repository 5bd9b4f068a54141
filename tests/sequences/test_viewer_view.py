from __future__ import annotations

import datetime as dt

from sequences.builder import build_sequence
from tests.factories import frames

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


def test_it_shows_a_placeholder_before_the_first_sequence(client, camera):
    body = client.get("/").content.decode()
    assert "Waiting for the first pictures from Main St at 5th Ave" in body


def test_it_shows_the_latest_loop_with_its_capture_time_in_the_camera_zone(client, camera):
    frames(camera, 5, START)
    sequence = build_sequence(camera)
    body = client.get("/").content.decode()
    assert f'<video class="loop" src="/sequence/{camera.slug}/latest.mp4?v={sequence.pk}"' in body
    assert f'src="/sequence/{camera.slug}/latest.gif?v={sequence.pk}"' in body
    # 17:00:24 UTC is 12:00 in New York.
    assert "Sat 28 Nov 2026 12:00 EST" in body
    assert 'alt="Road camera loop at Main St at 5th Ave' in body


def test_it_connects_the_page_to_the_live_socket(client, camera):
    assert 'data-live-url="/ws/live/"' in client.get("/").content.decode()
    one = client.get(f"/camera/{camera.slug}/iframe").content.decode()
    assert f'data-live-url="/ws/live/{camera.slug}/"' in one
    assert 'class="compact"' in one


def test_it_answers_404_for_an_unknown_camera(client, camera):
    assert client.get("/camera/nope/").status_code == 404
