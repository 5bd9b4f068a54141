"""The public rate limit (PUBLIC_RATE per client): 429 with Retry-After past it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client


def rapid(client: Client, url: str, count: int = 200) -> list:
    return [client.get(url) for _ in range(count)]


def test_it_answers_429_with_retry_after_to_200_rapid_status_requests(client, camera):
    responses = rapid(client, "/status")
    codes = [r.status_code for r in responses]
    assert codes[0] == 200
    assert 429 in codes
    limited = [r for r in responses if r.status_code == 429]
    assert all(0 < int(r["Retry-After"]) <= 60 for r in limited)
    assert codes.count(200) == 120  # the default PUBLIC_RATE, 120/min


def test_it_counts_each_client_on_its_own(client, camera, settings):
    settings.PUBLIC_RATE = "3/min"
    assert [r.status_code for r in rapid(client, "/api/cameras/", 4)][-1] == 429
    other = client.get("/api/cameras/", REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_it_does_not_believe_a_clients_own_forwarded_for(client, camera, settings):
    settings.PUBLIC_RATE = "3/min"
    codes = [
        client.get("/status", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(5)
    ]
    assert codes[-1] == 429


def test_it_limits_analytics_too(client, camera, settings):
    settings.PUBLIC_RATE = "2/min"
    codes = [r.status_code for r in rapid(client, f"/analytics?camera={camera.slug}", 3)]
    assert codes == [200, 200, 429]


def test_it_does_not_limit_staff(client, camera, settings):
    settings.PUBLIC_RATE = "2/min"
    client.force_login(get_user_model().objects.create_user("op", is_staff=True))
    assert {r.status_code for r in rapid(client, "/api/status", 5)} == {200}


def test_it_leaves_health_unlimited_for_monitors(client, camera, settings):
    settings.PUBLIC_RATE = "2/min"
    assert 429 not in {r.status_code for r in rapid(client, "/health", 5)}
