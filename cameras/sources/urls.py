"""Camera URLs: keep credentials apart from the address, and mask them in anything shown.

Camera libraries (FFmpeg, PyAV, urllib) put the URL they were given into their error
messages, so any text that came from them goes through `mask_text` before it is logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

MASK = "***"

# Query parameters some cameras take credentials in (Dahua, Axis, generic CGI snapshots).
SECRET_PARAMS = frozenset({"password", "pass", "passwd", "pwd", "pw", "token", "auth"})

# A URL inside free text: scheme://, then anything up to whitespace or a quote.
_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def _hostport(netloc: str) -> str:
    # rpartition: a password may itself contain "@" when it was not percent-encoded.
    return netloc.rpartition("@")[2]


def split_credentials(url: str) -> tuple[str, str, str]:
    """Return (url without user info, username, password), the credentials percent-decoded."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, "", ""
    userinfo, _, hostport = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    bare = urlunsplit(parts._replace(netloc=hostport))
    return bare, unquote(username), unquote(password)


def with_credentials(url: str, username: str, password: str) -> str:
    """Put credentials into the URL's user info, percent-encoded so any character is safe.

    FFmpeg percent-decodes user info before it answers a Basic or Digest challenge.
    """
    bare, _, _ = split_credentials(url)
    if not username and not password:
        return bare
    parts = urlsplit(bare)
    userinfo = quote(username, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def mask_url(url: str) -> str:
    """The URL with its password (user info and secret query parameters) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _mask_unparseable(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        username, has_password, _ = userinfo.partition(":")
        netloc = f"{username}:{MASK}@{hostport}" if has_password else f"{username}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in SECRET_PARAMS for key, _ in pairs):
            masked = [(k, MASK if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
            query = urlencode(masked, safe="*/:")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _mask_unparseable(url: str) -> str:
    # urlsplit refuses some malformed hosts (bad IPv6 brackets); never echo their user info.
    scheme, sep, rest = url.partition("://")
    if not sep:
        return MASK
    hostpart = rest.split("/", 1)[0]
    return f"{scheme}://{MASK}@{_hostport(hostpart)}" if "@" in hostpart else url


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask every URL in free text (an exception message), and any literal secret too."""
    masked = _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            masked = masked.replace(form, MASK)
    return masked
