"""Camera passwords at rest: encrypted in the database with a key kept in its own file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cameras import secrets
from cameras.models import Camera

PASSWORD = "s3cret-camera-pw"
BEFORE, AFTER = ("cameras", "0003_capture_leases"), ("cameras", "0004_encrypted_passwords")


def stored(pk: int) -> str:
    """The column as the database holds it, past the model field."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM cameras_camera WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


@pytest.fixture
def key_file(settings) -> Path:
    return Path(settings.DATA_DIR) / "field_key"


@pytest.fixture
def with_password(camera) -> Camera:
    camera.password = PASSWORD
    camera.save()
    return camera


def test_it_stores_no_plain_text_and_gives_the_password_back(with_password):
    raw = stored(with_password.pk)
    assert PASSWORD not in raw and raw.startswith("gAAAAA")  # a Fernet token
    assert Camera.objects.get(pk=with_password.pk).password == PASSWORD
    assert Camera.objects.values_list("password", flat=True).get() == PASSWORD


def test_it_encrypts_each_save_anew(with_password):
    first = stored(with_password.pk)
    with_password.save()
    assert stored(with_password.pk) != first
    assert Camera.objects.get().password == PASSWORD


def test_it_leaves_an_empty_password_empty_and_makes_no_key_for_it(camera, key_file):
    assert stored(camera.pk) == ""
    assert Camera.objects.get().password == ""
    assert not key_file.exists()


def test_it_makes_the_key_file_beside_the_secret_key_readable_by_the_owner_only(
    with_password, key_file
):
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    Fernet(key_file.read_text().strip())  # a valid key
    assert key_file.read_text().strip() not in stored(with_password.pk)


def test_it_encrypts_through_queryset_updates_too(camera):
    Camera.objects.filter(pk=camera.pk).update(password=PASSWORD)
    assert PASSWORD not in stored(camera.pk)
    assert Camera.objects.get().password == PASSWORD


def test_it_keeps_max_length_for_the_plain_password(camera):
    camera.password = "x" * 200
    camera.save()
    assert len(stored(camera.pk)) > 200
    assert Camera.objects.get().password == "x" * 200


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_in_place_and_back(settings, key_file):
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = MigrationExecutor(connection).loader.project_state([BEFORE]).apps
    plain = old.get_model("cameras", "Camera").objects.create(
        name="Old", slug="old", location_name="Here", password=PASSWORD
    )
    empty = old.get_model("cameras", "Camera").objects.create(
        name="Open", slug="open", location_name="There", password=""
    )
    assert stored(plain.pk) == PASSWORD
    try:
        MigrationExecutor(connection).migrate([AFTER])
        assert PASSWORD not in stored(plain.pk) and stored(empty.pk) == ""
        # Only the password: later migrations' columns do not exist yet at this state.
        assert Camera.objects.only("password").get(pk=plain.pk).password == PASSWORD
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

        MigrationExecutor(connection).migrate([BEFORE])
        assert stored(plain.pk) == PASSWORD
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_leaves_passwords_already_encrypted_alone(with_password):
    token = stored(with_password.pk)
    MigrationExecutor(connection).migrate([BEFORE])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cameras_camera SET password = %s", [token])
    try:
        MigrationExecutor(connection).migrate([AFTER])
        assert stored(with_password.pk) == token
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def errors_of(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "cameras.secrets")


def test_a_wrong_key_gives_a_clear_error_and_no_password(with_password, key_file, caplog):
    token = stored(with_password.pk)
    right = key_file.read_text()
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    camera = Camera.objects.get()  # no crash: the public pages still load the camera
    assert camera.password == ""
    message = errors_of(caplog)
    assert "cannot be decrypted" in message and str(key_file) in message
    assert PASSWORD not in caplog.text and token not in caplog.text
    # Saved while unreadable (an operator changing something else): the token is kept.
    camera.location_name = "Elsewhere"
    camera.save()
    assert stored(camera.pk) == token
    key_file.write_text(right)
    assert Camera.objects.get().password == PASSWORD


def test_a_missing_key_gives_a_clear_error_and_is_not_replaced_by_a_reader(
    with_password, key_file, caplog
):
    right = key_file.read_text()
    key_file.unlink()
    assert Camera.objects.get().password == ""
    assert "is missing" in errors_of(caplog) and str(key_file) in errors_of(caplog)
    assert PASSWORD not in caplog.text
    assert not key_file.exists()
    key_file.write_text(right)
    assert Camera.objects.get().password == PASSWORD


def test_a_broken_key_file_says_so(with_password, key_file, caplog):
    key_file.write_text("not a key\n")
    assert Camera.objects.get().password == ""
    assert "does not hold a valid key" in errors_of(caplog)


def test_a_password_entered_again_after_losing_the_key_is_readable(with_password, key_file):
    key_file.unlink()
    camera = Camera.objects.get()
    camera.password = "new-pw"
    camera.save()
    assert key_file.exists()
    assert Camera.objects.get().password == "new-pw"


def test_an_old_key_on_a_later_line_still_decrypts(with_password, key_file):
    old = key_file.read_text().strip()
    token = stored(with_password.pk)
    key_file.write_text(f"{Fernet.generate_key().decode()}\n{old}\n")
    camera = Camera.objects.get()
    assert camera.password == PASSWORD
    camera.save()  # encrypted again, now with the first key
    assert stored(camera.pk) != token
    key_file.write_text(key_file.read_text().splitlines()[0] + "\n")
    assert Camera.objects.get().password == PASSWORD


def test_the_key_file_can_be_named_by_the_settings(camera, settings, tmp_path):
    settings.FIELD_KEY_FILE = str(tmp_path / "elsewhere" / "imgserv.key")
    camera.password = PASSWORD
    camera.save()
    assert secrets.key_file() == tmp_path / "elsewhere" / "imgserv.key"
    assert secrets.key_file().exists()
    assert not (Path(settings.DATA_DIR) / "field_key").exists()


def test_the_admin_shows_neither_the_password_nor_its_token(client, django_user_model, camera):
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-boss"))
    camera.password = PASSWORD
    camera.save()
    token = stored(camera.pk)
    for url in (
        f"/admin/cameras/camera/{camera.pk}/change/",
        "/admin/cameras/camera/",
        f"/admin/cameras/camera/{camera.pk}/history/",
    ):
        page = client.get(url).content.decode()
        assert PASSWORD not in page and token not in page, url
