"""Camera passwords encrypted at rest, with a key kept outside the database.

The key file (`field_key` in the data folder, or FIELD_KEY_FILE) is created on the first
encryption, mode 0600. A copy of the database alone, or a leaked `.env`, then shows no camera
password; the key file alone decrypts nothing. Back up both, together.

The file holds one key per line: the first encrypts, every one decrypts. To change keys, put a
new one on the first line, keep the old below it, and save each camera once.

Encryption is `cryptography`'s Fernet (AES-128-CBC with an HMAC-SHA256 over the token): a
well-kept library for authenticated encryption, so a changed token is refused, not decrypted
into garbage. We do not write our own.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

log = logging.getLogger(__name__)

KEY_FILE_NAME = "field_key"


class FieldKeyError(Exception):
    """The key file is missing, unreadable or not the key the value was encrypted with. The
    message names the file and what to do; it never holds a value, encrypted or not."""


def key_file() -> Path:
    return Path(settings.FIELD_KEY_FILE or Path(settings.DATA_DIR) / KEY_FILE_NAME)


@functools.lru_cache(maxsize=8)
def _keys(path: str, text: str) -> MultiFernet:
    lines = [line.strip() for line in text.splitlines()]
    try:
        return MultiFernet([Fernet(line) for line in lines if line and not line.startswith("#")])
    except ValueError:  # a line that is not a key, or no line at all
        raise FieldKeyError(
            f"The key file {path} does not hold a valid key (32 url-safe base64-encoded "
            "bytes per line). Restore it from the backup of the data folder."
        ) from None


def _create(path: Path) -> None:
    """A new key, written whole and 0600 before it is visible: two processes starting at once
    both end up with the one that was linked first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(Fernet.generate_key().decode() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # Another process made one first: theirs is the key.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def keys(create: bool = False) -> MultiFernet:
    """The keys in the key file. `create`: make the file when it is missing (to encrypt); a
    reader never makes one, or a lost key would be silently replaced by a new one."""
    path = key_file()
    if not path.exists():
        if not create:
            raise FieldKeyError(
                f"The key file {path} is missing, so the camera passwords stored encrypted "
                "cannot be read. Put the data folder's original field_key back, or enter the "
                "passwords again in the admin."
            )
        _create(path)
    # Read each time (a few bytes), so a key put back is used at once, by every process.
    try:
        text = path.read_text()
    except OSError as exc:
        raise FieldKeyError(f"Cannot read the key file {path}: {exc.strerror}.") from None
    return _keys(str(path), text)


def encrypt(plain: str) -> str:
    return keys(create=True).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return keys().decrypt(token.encode()).decode()
    except InvalidToken:
        raise FieldKeyError(
            f"A camera password cannot be decrypted with the key in {key_file()}: it was "
            "encrypted with another key. Put the original field_key back (or add it as a "
            "second line), or enter the password again in the admin."
        ) from None


def is_encrypted(value: str) -> bool:
    """Whether `value` is a token of our key (a plain password never is)."""
    try:
        decrypt(value)
    except FieldKeyError:
        return False
    return True


class UnreadableSecret(str):
    """A stored value that could not be decrypted. It reads as "" (nothing uses the token as a
    password), and saving it writes the stored token back unchanged, so a camera saved while
    the key is missing keeps its password for when the key returns."""

    stored: str

    def __new__(cls, stored: str) -> UnreadableSecret:
        value = super().__new__(cls, "")
        value.stored = stored
        return value


_reported: set[str] = set()


def _report(exc: FieldKeyError) -> None:
    """Once per process and cause: the value is read on every query of its row."""
    message = str(exc)
    if message not in _reported:
        _reported.add(message)
        log.error("%s", message)


class EncryptedCharField(models.CharField):
    """A CharField whose value is stored encrypted (see this module). In Python it is the
    plain str, so nothing else changes; max_length limits that plain value. The column is text,
    since a token is about 4/3 the value's length plus 100 characters."""

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        try:
            return decrypt(value)
        except FieldKeyError as exc:
            _report(exc)
            return UnreadableSecret(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if isinstance(value, UnreadableSecret):
            return value.stored
        if not value:
            return value
        return encrypt(value)
