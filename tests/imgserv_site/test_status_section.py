from __future__ import annotations

from publishing.models import PublishTarget


def test_it_shows_each_target_in_status_without_hosts_users_or_paths(client, db, tmp_path):
    PublishTarget.objects.create(
        name="vps", kind="rsync", host="bundle.example.org", port=2222, user="pubuser",
        remote_path="/srv/public/road", identity_file=str(tmp_path / "key"),
    )  # fmt: skip
    response = client.get("/status")
    [target] = response.json()["publishing"]
    assert target["name"] == "vps"
    assert "last_error" in target and "lag_seconds" in target
    body = response.content.decode()
    for detail in ("bundle.example.org", "pubuser", "/srv/public/road", str(tmp_path)):
        assert detail not in body
