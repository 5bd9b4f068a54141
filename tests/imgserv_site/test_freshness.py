"""Public pages built once per change: /status and the viewer replayed from the web
process's copy, in front of Django, until something they show changes (imgserv_site.freshness)."""

from __future__ import annotations

import json

import pytest
from channels.testing import HttpCommunicator
from django.core.asgi import get_asgi_application

from cameras.models import Camera
from imgserv_site import freshness
from imgserv_site.freshness import FreshPages
from tests.factories import live_worker

pytestmark = pytest.mark.django_db(transaction=True)
HOST = (b"host", b"testserver")


class Counting:
    """Django, counting how often the copy was not enough."""

    def __init__(self) -> None:
        self.django = get_asgi_application()
        self.calls = 0

    async def __call__(self, scope, receive, send) -> None:
        self.calls += 1
        await self.django(scope, receive, send)


@pytest.fixture
def site(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.FRESH_PAGES_LIMITED = ["/status", "/api/status"]
    counting = Counting()
    return FreshPages(counting), counting


async def get(app, path: str, *headers: tuple[bytes, bytes], method: str = "GET") -> dict:
    communicator = HttpCommunicator(app, method, path, headers=[HOST, *headers])
    return await communicator.get_response(timeout=10)


def header(response: dict, name: bytes) -> bytes | None:
    return {k.lower(): v for k, v in response["headers"]}.get(name)


@pytest.fixture
def no_wait(monkeypatch):
    """A change shows at once (normally within VERSION_CHECK)."""
    monkeypatch.setattr(freshness, "VERSION_CHECK", 0.0)


async def camera_named(name: str) -> Camera:
    from asgiref.sync import sync_to_async

    def create() -> Camera:
        live_worker()
        return Camera.objects.create(name=name, slug=name.lower(), location_name=name)

    return await sync_to_async(create)()


@pytest.mark.asyncio
async def test_it_builds_the_status_once_and_replays_it(site, no_wait):
    app, django = site
    await camera_named("Main")
    first = await get(app, "/status")
    again = await get(app, "/status")
    assert first["status"] == again["status"] == 200
    assert again["body"] == first["body"]
    assert django.calls == 1
    # Headers and all: the security headers Django's middleware added come back too.
    assert header(again, b"content-security-policy") == header(first, b"content-security-policy")


@pytest.mark.asyncio
async def test_a_change_builds_the_page_afresh(site, no_wait):
    from asgiref.sync import sync_to_async

    app, django = site
    camera = await camera_named("Main")
    await get(app, "/status")
    await sync_to_async(Camera.objects.filter(pk=camera.pk).update)(location_name="Quiet Rd")
    assert b"Quiet Rd" not in (await get(app, "/status"))["body"]  # nothing said it changed
    camera.location_name = "Renamed Rd"
    await sync_to_async(camera.save)()  # a receiver marks the pages stale
    assert b"Renamed Rd" in (await get(app, "/status"))["body"]
    assert django.calls == 2


@pytest.mark.asyncio
async def test_it_rebuilds_after_a_few_seconds_even_without_a_change(site, no_wait, monkeypatch):
    app, django = site
    await camera_named("Main")
    await get(app, "/")
    monkeypatch.setattr(freshness, "REBUILD_AFTER", 0.0)
    await get(app, "/")
    assert django.calls == 2


@pytest.mark.asyncio
async def test_a_signed_in_operator_and_other_paths_go_to_django(site, no_wait):
    app, django = site
    await camera_named("Main")
    for _ in range(2):
        await get(app, "/status", (b"cookie", b"sessionid=abc"))
        await get(app, "/api/cameras/")
    assert django.calls == 4


@pytest.mark.asyncio
async def test_it_answers_head_from_the_copy_with_no_body(site, no_wait):
    app, django = site
    await camera_named("Main")
    body = (await get(app, "/"))["body"]
    head = await get(app, "/", method="HEAD")
    assert head["status"] == 200 and head["body"] == b""
    assert int(header(head, b"content-length") or 0) == len(body)
    assert django.calls == 1


@pytest.mark.asyncio
async def test_it_keeps_the_public_rate_limit_on_the_status(site, no_wait, settings):
    app, _django = site
    settings.PUBLIC_RATE = "3/min"
    await camera_named("Main")
    codes = [(await get(app, "/status"))["status"] for _ in range(5)]
    assert codes[-1] == 429
    limited = await get(app, "/status")
    assert 0 < int(header(limited, b"retry-after") or 0) <= 60
    assert json.loads(limited["body"])["detail"].startswith("Request was throttled.")
    assert header(limited, b"content-security-policy")
    assert (await get(app, "/"))["status"] == 200  # the viewer is not limited


def test_only_the_listed_pages_are_kept():
    assert freshness.fresh_page("/") and freshness.fresh_page("/camera/main-street/iframe")
    assert not freshness.fresh_page("/api/cameras/")
    assert not freshness.fresh_page("/admin/")
