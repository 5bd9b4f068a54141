"""Camera passwords encrypted in place (cameras.secrets): the column becomes text (a token is
longer than the 200-character password), then every stored password is encrypted. Reversible:
backwards, every password that the key decrypts is stored plain again."""

from __future__ import annotations

from typing import Any

from django.db import migrations

import cameras.secrets


def _rows(schema_editor: Any, table: str) -> list[tuple[int, str]]:
    # Raw SQL: the field would decrypt on read, and a value not yet encrypted cannot be.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, password FROM {table} WHERE password <> ''")
        return list(cursor.fetchall())


def _store(schema_editor: Any, table: str, pk: int, value: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET password = %s WHERE id = %s", [value, pk])


def _table(apps: Any, schema_editor: Any) -> str:
    return str(schema_editor.quote_name(apps.get_model("cameras", "Camera")._meta.db_table))


def encrypt_passwords(apps: Any, schema_editor: Any) -> None:
    table = _table(apps, schema_editor)
    for pk, stored in _rows(schema_editor, table):
        if not cameras.secrets.is_encrypted(stored):
            _store(schema_editor, table, pk, cameras.secrets.encrypt(stored))


def decrypt_passwords(apps: Any, schema_editor: Any) -> None:
    table = _table(apps, schema_editor)
    for pk, stored in _rows(schema_editor, table):
        # A value the key cannot decrypt is left as it is: it may never have been encrypted.
        if cameras.secrets.is_encrypted(stored):
            _store(schema_editor, table, pk, cameras.secrets.decrypt(stored))


class Migration(migrations.Migration):
    dependencies = [
        ("cameras", "0003_capture_leases"),
    ]

    operations = [
        migrations.AlterField(
            model_name="camera",
            name="password",
            field=cameras.secrets.EncryptedCharField(blank=True, max_length=200),
        ),
        migrations.RunPython(encrypt_passwords, decrypt_passwords),
    ]
