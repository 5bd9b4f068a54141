"""The OpenAPI 3 schema and the docs page, whose assets the project serves itself."""

from __future__ import annotations

import json
import re

from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema

API_PATHS = {
    "/api/cameras/",
    "/api/cameras/{slug}/",
    "/api/cameras/{slug}/sequence/latest",
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
