"""The admin keeps working under `script-src 'self'; style-src 'self'`: its pages carry no
inline script, event handler or style attribute that the policy would block."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize(
    "url",
    [
        "/admin/login/",
        "/admin/",
        "/admin/cameras/camera/",
        "/admin/cameras/camera/add/",
        "/admin/cameras/camera/{pk}/change/",
        "/admin/authtoken/tokenproxy/",
    ],
)
def test_it_renders_admin_pages_without_inline_code(client, admin_user, camera, url):
    if url != "/admin/login/":
        client.force_login(admin_user)
    response = client.get(url.format(pk=camera.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert "javascript:" not in html
