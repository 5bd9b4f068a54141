from __future__ import annotations


def test_it_describes_the_latest_sequence(api, camera, built):
    response = api.get(f"/api/cameras/{camera.slug}/sequence/latest")
    assert response.status_code == 200
    body = response.json()
    assert body["camera"] == camera.slug
    assert body["id"] == built.pk
    assert body["frame_count"] == 5
    assert body["urls"]["gif"] == f"/sequence/{camera.slug}/latest.gif"
    assert body["bytes"]["gif"] == built.gif_bytes > 0


def test_it_answers_404_before_the_first_build(api, camera):
    response = api.get(f"/api/cameras/{camera.slug}/sequence/latest")
    assert response.status_code == 404
    assert "No sequence" in response.json()["detail"]
