"""The OpenAPI 3 schema and the docs page, whose assets the project serves itself."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from schemathesis.checks import not_a_server_error

from analytics.models import ConditionReading
from cameras.models import Camera
from publishing.models import PublishTarget
from sequences.builder import build_sequence
from tests.api.conftest import START
from tests.factories import frames

API_PATHS = {
    "/api/cameras/",
    "/api/cameras/{slug}/",
    "/api/cameras/{slug}/sequence/latest",
    "/api/cameras/{slug}/days",
    "/api/cameras/{slug}/analytics",
    "/api/cameras/{slug}/analytics/history",
    "/api/cameras/{slug}/agreement",
    "/api/status",
    "/api/health",
    "/api/publishing",
}


def test_it_serves_a_valid_openapi_3_schema_listing_the_api(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == API_PATHS
    assert "patch" in schema["paths"]["/api/cameras/{slug}/"]
    assert "put" not in schema["paths"]["/api/cameras/{slug}/"]


def test_it_documents_token_and_session_authentication(client, db):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_it_keeps_secrets_out_of_the_schema(client, db):
    text = client.get("/api/schema/", {"format": "json"}).content.decode()
    assert "source_url" not in text and "password" not in text


def test_it_serves_the_docs_page_with_assets_from_our_static_files(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for url in assets:
        assert not url.startswith(("http:", "https:", "//")), url
    static = [u for u in assets if u.startswith("/static/")]
    assert {u.rsplit("/", 1)[-1] for u in static} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for url in static:
        assert finders.find(url.removeprefix("/static/")), url
    assert "<script>" not in html  # the start-up script is its own URL, for the CSP


def test_it_serves_the_docs_start_up_script_as_javascript(client, db):
    html = client.get("/api/docs/").content.decode()
    [script] = [u for u in re.findall(r'src="([^"]+)"', html) if "script" in u]
    response = client.get(script.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in response.content.decode()


def test_it_allows_the_docs_inline_style_by_hash_only(client, db):
    policy = client.get("/api/docs/")["Content-Security-Policy"]
    style = next(d for d in policy.split("; ") if d.startswith("style-src"))
    assert re.fullmatch(r"style-src 'self' 'sha256-[A-Za-z0-9+/=]+'", style)
    assert "unsafe-inline" not in policy


def api_schema(client) -> dict:
    return json.loads(client.get("/api/schema/", {"format": "json"}).content)


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_it_asks_for_credentials_only_where_they_are_needed(client, db):
    """Reading is public: an invalid token gets the same data as none at all, so a public
    read that advertised token or cookie security would be a lie."""
    for method, path, operation in operations(api_schema(client)):
        if method == "GET":
            assert "security" not in operation, path
        else:
            assert operation["security"] == [{"tokenAuth": []}, {"cookieAuth": []}], path


def test_it_documents_every_refusal_with_its_body(client, db):
    schema = api_schema(client)
    for method, path, operation in operations(schema):
        codes = set(operation["responses"])
        expected = {"200", "401"}
        expected |= {"400", "403", "415"} if method == "PATCH" else {"429"}
        expected |= {"404"} if "{slug}" in path else set()
        expected |= {"400"} if path.endswith("/history") else set()
        expected |= {"503"} if path == "/api/health" else set()
        assert codes == expected, (method, path)
        for code in codes - {"200"}:
            assert operation["responses"][code]["content"]["application/json"]["schema"], code
    throttled = schema["paths"]["/api/cameras/"]["get"]["responses"]["429"]
    assert throttled["headers"]["Retry-After"]["required"] is True


def test_it_documents_publishing_as_a_list_of_targets(client, db):
    schema = api_schema(client)
    body = schema["paths"]["/api/publishing"]["get"]["responses"]["200"]["content"]
    assert body["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/PublishTarget"},
    }
    fields = schema["components"]["schemas"]["PublishTarget"]["properties"]
    assert {"name", "last_success_at", "lag_seconds", "last_error"} <= set(fields)
    assert not {"host", "user", "remote_path"} & set(fields)


@pytest.fixture
def in_process(db) -> schemathesis.schemas.BaseSchema:
    """The served schema, with its cases called on the site in this process (no server)."""
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def test_a_throttled_client_gets_the_documented_429(in_process, camera, settings):
    """The live contract run raises the rate limit; here the limit bites, and schemathesis
    checks the answer against the schema (status, body, Retry-After)."""
    settings.PUBLIC_RATE = "2/min"
    case = in_process["/api/cameras/"]["GET"].Case()
    responses = [case.call() for _ in range(3)]
    assert responses[-1].status_code == 429
    for response in responses:
        case.validate_response(response)


def test_an_unhealthy_installation_gets_the_documented_503(in_process, camera):
    case = in_process["/api/health"]["GET"].Case()
    response = case.call()
    assert response.status_code == 503  # no worker has ever beaten here
    # Every check but the one that takes any 5xx for a crash: this 503 is the documented answer.
    case.validate_response(response, excluded_checks=[not_a_server_error])


def test_a_path_no_route_takes_gets_the_json_404(client, db):
    response = client.get("/api/cameras/no such camera/agreement")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert client.get("/no-such-page")["Content-Type"].startswith("text/html")


def test_it_documents_the_status_body_with_its_storage_figures(client, db):
    schema = api_schema(client)
    body = schema["paths"]["/api/status"]["get"]["responses"]["200"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/Status"}
    components = schema["components"]["schemas"]
    assert {"version", "healthy", "checks", "storage", "cameras", "publishing"} <= set(
        components["Status"]["properties"]
    )
    storage = components["Storage"]["properties"]
    assert {
        "used_bytes", "used_mb", "quota_mb", "percent_used", "frames", "sequences",
        "free_disk_mb", "min_free_disk_mb",
    } <= set(storage)  # fmt: skip
    assert storage["quota_mb"]["nullable"] is True
    assert set(components["StoredFiles"]["properties"]) == {"count", "bytes", "mb"}
    camera = components["CameraStatus"]["properties"]
    assert {"frames_stored", "sequences_stored", "stored_mb", "units"} <= set(camera)
    conditions = components["ConditionsStatus"]["properties"]
    assert {"temperature_c", "temperature", "units"} <= set(conditions)


def test_a_status_with_frames_sequences_and_readings_matches_its_schema(
    in_process, camera, settings
):
    """schemathesis checks the real body against the documented one, nulls and all: a camera
    with frames, a sequence, a reading and a forecast, one with nothing yet, a publish target."""
    camera.latitude, camera.longitude = 39.74, -104.99
    camera.save()
    frames(camera, 5, START)
    build_sequence(camera)
    Camera.objects.create(name="Side road", slug="side-road", location_name="Side road")
    ConditionReading.objects.create(
        camera=camera, measured_at=timezone.now(), state="snow", level="light",
        published_state="snow", published_level="light", reason="snow on the road",
        snow_coverage=0.2, wetness=0.2, ice_likelihood=0.1, brightness=0.5, confidence=0.8,
        temperature_c=-1.0,
    )  # fmt: skip
    PublishTarget.objects.create(name="vps", kind="directory", remote_path="/nonexistent")
    for quota in (2048, 0):
        settings.MEDIA_QUOTA_MB = quota
        case = in_process["/api/status"]["GET"].Case()
        response = case.call()
        assert response.status_code == 200
        case.validate_response(response)
        assert response.json()["storage"]["frames"]["count"] == 5
