"""deploy/uninstall.sh against a staging root: the services, site and command go, the data and
settings stay unless --purge."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.staging import script, source_copy


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return source_copy(tmp_path_factory.mktemp("source"))


def installed(source: Path, root: Path) -> Path:
    assert script(source, "install.sh", prefix=root).returncode == 0
    (root / "var/lib/imgserv/imgserv.sqlite3").write_text("the data")
    return root


def test_it_removes_the_installation_and_keeps_the_data_and_settings(source, tmp_path):
    root = installed(source, tmp_path / "root")
    done = script(source, "uninstall.sh", prefix=root)
    assert done.returncode == 0, done.stderr
    for gone in ("etc/systemd/system/imgserv-web.service", "etc/systemd/system/imgserv.target",
                 "etc/nginx/sites-enabled/imgserv", "etc/nginx/sites-available/imgserv",
                 "etc/logrotate.d/imgserv", "usr/local/bin/imgserv", "opt/imgserv"):  # fmt: skip
        assert not (root / gone).exists(), gone
    assert (root / "var/lib/imgserv/imgserv.sqlite3").read_text() == "the data"
    assert "SECRET_KEY=" in (root / "etc/imgserv/env").read_text()
    assert "kept: the data in /var/lib/imgserv" in done.stdout

    again = script(source, "install.sh", prefix=root)
    assert again.returncode == 0 and "keeping the settings" in again.stdout


def test_purge_removes_the_data_too_and_asks_first(source, tmp_path):
    root = installed(source, tmp_path / "root")
    unconfirmed = script(source, "uninstall.sh", "--purge", prefix=root)
    assert unconfirmed.returncode == 2 and "add --yes" in unconfirmed.stderr
    assert (root / "var/lib/imgserv/imgserv.sqlite3").exists()
    done = script(source, "uninstall.sh", "--purge", "--yes", prefix=root)
    assert done.returncode == 0, done.stderr
    assert not (root / "var/lib/imgserv").exists() and not (root / "etc/imgserv").exists()


def test_a_dry_run_removes_nothing(source, tmp_path):
    root = installed(source, tmp_path / "root")
    done = script(source, "uninstall.sh", "--dry-run", "--purge", prefix=root)
    assert done.returncode == 0
    assert f"would run: rm -rf {root}/opt/imgserv" in done.stdout
    assert (root / "opt/imgserv/current").exists()
