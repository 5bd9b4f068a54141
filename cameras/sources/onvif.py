"""ONVIF cameras: ask the device for its media profiles and stream/snapshot addresses, then
grab through the snapshot URI (one HTTP request per frame) or, if it has none, RTSP.

Plain SOAP 1.2 over HTTP with a WS-Security UsernameToken (PasswordDigest), parsed with
xml.etree: three Media (ver10) calls do not justify zeep and its WSDL downloads.

Discovery as a whole has one deadline (`timeout`), and so does each grab: every SOAP call and
the snapshot fetch go through the same socket guard as the HTTP snapshot source.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from cameras.sources.base import CaptureError, Grab, network_error
from cameras.sources.base import CaptureErrorKind as Kind
from cameras.sources.deadline import Deadline, SocketGuard, guarded_opener
from cameras.sources.http_snapshot import HttpSnapshotSource
from cameras.sources.rtsp import RtspSource
from cameras.sources.urls import mask_text, mask_url

log = logging.getLogger(__name__)

DEVICE_PATH = "/onvif/device_service"  # fixed by the ONVIF Core spec
MAX_RESPONSE_BYTES = 2_000_000  # profiles of a 16-channel NVR are ~100 kB
# The device cannot be reached at all: no point trying the next call.
UNREACHABLE = frozenset(
    {
        Kind.REFUSED,
        Kind.TIMED_OUT,
        Kind.UNREACHABLE,
        Kind.HOST_NOT_FOUND,
        Kind.NETWORK,
        Kind.CONNECTION_CLOSED,
    }
)

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
_PASSWORD_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
_BASE64 = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)


@dataclass(frozen=True)
class Profile:
    token: str
    name: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class OnvifDevice:
    profiles: list[Profile]
    stream_uri: str
    snapshot_uri: str | None
    profile_token: str = ""  # the profile the URIs belong to
    media_url: str = field(default="", repr=False)


class OnvifError(CaptureError):
    """An ONVIF call failed; `kind` says how, the message says it in plain words."""


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security UsernameToken digest: Base64(SHA-1(nonce + created + password))."""
    raw = nonce + created.encode() + password.encode()
    return base64.b64encode(hashlib.sha1(raw).digest()).decode()


def _security_header(username: str, password: str, clock_offset: dt.timedelta) -> str:
    nonce = secrets.token_bytes(16)
    # Cameras reject a Created far from their own clock, so write it in the camera's time.
    created = (dt.datetime.now(dt.UTC) + clock_offset).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (
        f'<wsse:Security s:mustUnderstand="1" xmlns:wsse="{NS["wsse"]}" xmlns:wsu="{NS["wsu"]}">'
        "<wsse:UsernameToken>"
        f"<wsse:Username>{escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{_PASSWORD_DIGEST}">'
        f"{password_digest(nonce, created, password)}</wsse:Password>"
        f'<wsse:Nonce EncodingType="{_BASE64}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
        f"<wsu:Created>{created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )


def _envelope(body: str, header: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:tds="{NS["tds"]}" '
        f'xmlns:trt="{NS["trt"]}" xmlns:tt="{NS["tt"]}">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


class _Client:
    """SOAP calls to one device, all bound by `guard` (one deadline for the whole exchange)."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        timeout: float,
        guard: SocketGuard,
    ):
        self.base = f"http://{_host_for_url(host)}:{port}"
        self.username = username
        self.password = password
        self.timeout = timeout
        self.clock_offset = dt.timedelta()
        self._guard = guard
        handlers: list[urllib.request.BaseHandler] = []
        if username or password:
            # Some cameras want HTTP Digest on top of (or instead of) WS-Security.
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            passwords.add_password(None, self.base + "/", username, password)
            handlers.append(urllib.request.HTTPDigestAuthHandler(passwords))
        self._opener = guarded_opener(guard, *handlers)

    def call(self, url: str, action: str, body: str, *, secure: bool = True) -> ET.Element:
        """POST one SOAP request; return the Body's first child, or raise OnvifError."""
        header = ""
        if secure and (self.username or self.password):
            header = _security_header(self.username, self.password, self.clock_offset)
        request = urllib.request.Request(
            url,
            data=_envelope(body, header),
            headers={"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'},
            method="POST",
        )
        error: Kind | None = None
        failure = ""
        payload = b""
        status = 200
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                payload = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            # SOAP faults come with 400/500; their body says what went wrong.
            status = exc.code
            payload = exc.read(MAX_RESPONSE_BYTES + 1) if exc.fp else b""
            if status == 401:
                error = Kind.AUTH_FAILED
        except Exception as exc:  # mapped to a kind
            network = network_error(exc)
            error = network.kind if network is not None else Kind.OTHER
            failure = str(network or "Could not reach the ONVIF service.")
            if not self._guard.fired:
                log.info("onvif %s: %s", mask_url(url), mask_text(str(exc), (self.password,)))
        # Cut short by the deadline: whatever the cut looked like (EOF, reset, half an answer).
        if self._guard.fired:
            raise OnvifError(Kind.TIMED_OUT)
        if error is not None:
            raise OnvifError(error, message=failure)
        return self._parse(payload, status, action)

    def _parse(self, payload: bytes, status: int, action: str) -> ET.Element:
        operation = action.rsplit("/", 1)[-1]
        root: ET.Element | None = None
        if len(payload) <= MAX_RESPONSE_BYTES:
            try:
                root = ET.fromstring(payload)
            except ET.ParseError:
                root = None
        body = root.find("s:Body", NS) if root is not None else None
        if body is None or len(body) == 0:
            if status == 404:
                raise OnvifError(Kind.NOT_ONVIF, "no ONVIF service at this address")
            raise OnvifError(Kind.NOT_ONVIF, f"unreadable answer to {operation}")
        fault = body.find("s:Fault", NS)
        if fault is not None:
            raise _describe_fault(fault, operation)
        return body[0]


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _describe_fault(fault: ET.Element, operation: str) -> OnvifError:
    codes = [(v.text or "").strip() for v in fault.iter(f"{{{NS['s']}}}Value")]
    reason = " ".join(t.text or "" for t in fault.iter(f"{{{NS['s']}}}Text")).lower()
    subcodes = {code.rsplit(":", 1)[-1] for code in codes}
    if "NotAuthorized" in subcodes or "FailedAuthentication" in subcodes or "authori" in reason:
        return OnvifError(Kind.AUTH_FAILED)
    if "ActionNotSupported" in subcodes:
        return OnvifError(Kind.UNSUPPORTED, message=f"The camera does not support {operation}.")
    return OnvifError(
        Kind.REQUEST_REFUSED, message=f"The camera refused the ONVIF request {operation}."
    )


def _text(element: ET.Element | None, path: str) -> str | None:
    found = element.find(path, NS) if element is not None else None
    return found.text.strip() if found is not None and found.text else None


def _int(element: ET.Element | None, path: str) -> int | None:
    value = _text(element, path)
    return int(value) if value and value.isdigit() else None


def _camera_clock(answer: ET.Element) -> dt.datetime | None:
    utc = answer.find(".//tt:UTCDateTime", NS)
    fields = ("Year", "Month", "Day", "Hour", "Minute", "Second")
    parts = [_int(utc, f"tt:{'Date' if i < 3 else 'Time'}/tt:{f}") for i, f in enumerate(fields)]
    if any(p is None for p in parts):
        return None
    year, month, day, hour, minute, second = (int(p or 0) for p in parts)
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError:
        return None


def _parse_profiles(answer: ET.Element) -> list[Profile]:
    profiles = []
    for element in answer.findall("trt:Profiles", NS):
        encoder = element.find("tt:VideoEncoderConfiguration", NS)
        bounds = element.find("tt:VideoSourceConfiguration/tt:Bounds", NS)
        width = _int(encoder, "tt:Resolution/tt:Width")
        height = _int(encoder, "tt:Resolution/tt:Height")
        if width is None and bounds is not None:
            width = int(bounds.get("width", "0")) or None
            height = int(bounds.get("height", "0")) or None
        token = element.get("token", "")
        profiles.append(Profile(token, _text(element, "tt:Name") or token, width, height))
    return profiles


def _rebase(xaddr: str, base: str) -> str:
    # Cameras behind NAT or port forwarding report their LAN address; keep only the path.
    path = urllib.parse.urlsplit(xaddr).path or "/"
    return base + path


def discover(
    host: str,
    port: int = 80,
    username: str = "",
    password: str = "",
    timeout: float = 5,
    profile_token: str | None = None,
    *,
    deadline: Deadline | None = None,
) -> OnvifDevice:
    """Profiles and the stream/snapshot URIs of one profile (the first, unless named).

    All of it is over within `timeout` seconds (or by `deadline`, when a grab gives one)."""
    deadline = deadline or Deadline(timeout)
    with SocketGuard(deadline) as guard:
        client = _Client(host, port, username, password, timeout, guard)
        return _discover(client, profile_token)


def _discover(client: _Client, profile_token: str | None) -> OnvifDevice:
    device_url = client.base + DEVICE_PATH

    # Unauthenticated by spec; lets the UsernameToken's Created match the camera's clock.
    try:
        clock = _camera_clock(
            client.call(
                device_url, f"{NS['tds']}/GetSystemDateAndTime", "<tds:GetSystemDateAndTime/>",
                secure=False,
            )
        )  # fmt: skip
        if clock is not None:
            client.clock_offset = clock - dt.datetime.now(dt.UTC).replace(microsecond=0)
    except OnvifError as exc:
        if exc.kind in UNREACHABLE or exc.kind == Kind.NOT_ONVIF:
            raise
        # Some cameras want auth even here; carry on with our own clock.

    media_url = client.base + "/onvif/media_service"
    try:
        capabilities = client.call(
            device_url,
            f"{NS['tds']}/GetCapabilities",
            "<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>",
        )
        xaddr = _text(capabilities, ".//tt:Media/tt:XAddr")
        if xaddr:
            media_url = _rebase(xaddr, client.base)
    except OnvifError as exc:
        if exc.kind in UNREACHABLE or exc.kind == Kind.AUTH_FAILED:
            raise
        # Older firmware without GetCapabilities: the common default path is tried.

    profiles = _parse_profiles(
        client.call(media_url, f"{NS['trt']}/GetProfiles", "<trt:GetProfiles/>")
    )
    if not profiles:
        raise OnvifError(Kind.NO_PROFILE, message="The camera has no media profiles.")
    if profile_token is None:
        token = profiles[0].token
    elif any(p.token == profile_token for p in profiles):
        token = profile_token
    else:
        raise OnvifError(Kind.NO_PROFILE, message="The camera has no profile with that token.")

    stream_answer = client.call(
        media_url,
        f"{NS['trt']}/GetStreamUri",
        "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>"
        "<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>"
        f"<trt:ProfileToken>{escape(token)}</trt:ProfileToken></trt:GetStreamUri>",
    )
    stream_uri = _text(stream_answer, "trt:MediaUri/tt:Uri")
    if not stream_uri:
        raise OnvifError(Kind.NO_STREAM, message="The camera gave no stream address.")

    snapshot_uri: str | None = None
    try:
        snapshot_answer = client.call(
            media_url,
            f"{NS['trt']}/GetSnapshotUri",
            f"<trt:GetSnapshotUri><trt:ProfileToken>{escape(token)}</trt:ProfileToken>"
            "</trt:GetSnapshotUri>",
        )
        snapshot_uri = _text(snapshot_answer, "trt:MediaUri/tt:Uri")
    except OnvifError as exc:
        if exc.kind in UNREACHABLE:
            raise
        log.info("onvif %s: no snapshot URI (%s); using RTSP", mask_url(media_url), exc)
    return OnvifDevice(profiles, stream_uri, snapshot_uri, token, media_url)


class OnvifSource:
    """An ONVIF camera: discovered on the first grab, then grabbed through its snapshot URI
    (cheap, the camera encodes the JPEG) or its RTSP stream.

    Each grab, the first with its discovery included, is over within `timeout` seconds."""

    def __init__(
        self,
        host: str,
        port: int = 80,
        *,
        username: str = "",
        password: str = "",
        profile_token: str | None = None,
        timeout: float = 5,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._username = username
        self._password = password
        self.profile_token = profile_token
        self.timeout = timeout
        self.width = width
        self.height = height
        self.device: OnvifDevice | None = None
        self._inner: HttpSnapshotSource | RtspSource | None = None

    def __repr__(self) -> str:
        return f"OnvifSource({self.host!r}, {self.port})"

    @property
    def deadline_s(self) -> float:
        return self.timeout

    @property
    def inner(self) -> HttpSnapshotSource | RtspSource | None:
        """The snapshot or RTSP source grabs go through, once discovered."""
        return self._inner

    def grab(self) -> Grab:
        deadline = Deadline(self.timeout)
        if self._inner is None:
            self.device = discover(
                self.host,
                self.port,
                self._username,
                self._password,
                self.timeout,
                self.profile_token,
                deadline=deadline,
            )
            self._inner = self._source_for(self.device)
        return self._inner.grab_within(deadline)

    def _source_for(self, device: OnvifDevice) -> HttpSnapshotSource | RtspSource:
        if device.snapshot_uri:
            return HttpSnapshotSource(
                device.snapshot_uri,
                username=self._username,
                password=self._password,
                timeout=self.timeout,
            )
        return RtspSource(
            device.stream_uri,
            username=self._username,
            password=self._password,
            open_timeout=self.timeout,
            read_timeout=self.timeout,
            deadline=self.timeout,
            width=self.width,
            height=self.height,
        )

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()
