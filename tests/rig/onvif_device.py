"""A small ONVIF device (Device + Media ver10 services) for tests, standard library only.

Chosen over ipycam: no extra package (ipycam declares opencv-python, clashing with the
project's headless build) and its RTSP side needs go2rtc, which is not here. This device
answers with response documents shaped as in the ONVIF Media WSDL (ver10) examples, checks
the WS-Security UsernameToken digest like a camera does (Created within 5 minutes of the
device clock, nonces not replayed) and points its URIs at the other rig servers.

Operations: GetSystemDateAndTime (no auth, as the spec allows), GetCapabilities,
GetProfiles, GetStreamUri, GetSnapshotUri (an ActionNotSupported fault when the device has
no snapshot URI).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from tests.rig import RigServer, free_port

S = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{S}" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
    'xmlns:ter="http://www.onvif.org/ver10/error">'
    "<SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
)
MAX_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class RigProfile:
    token: str
    name: str
    width: int
    height: int


def _fault(subcode: str, reason: str) -> str:
    return (
        "<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value>"
        f"<SOAP-ENV:Subcode><SOAP-ENV:Value>{subcode}</SOAP-ENV:Value></SOAP-ENV:Subcode>"
        f'</SOAP-ENV:Code><SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">{reason}'
        "</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>"
    )


def _profile_xml(p: RigProfile) -> str:
    return f"""<trt:Profiles token="{p.token}" fixed="true"><tt:Name>{p.name}</tt:Name>
<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSourceConfig</tt:Name>
<tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken>
<tt:Bounds x="0" y="0" width="{p.width}" height="{p.height}"/></tt:VideoSourceConfiguration>
<tt:VideoEncoderConfiguration token="VideoEncoder_{p.token}"><tt:Name>{p.name}</tt:Name>
<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>
<tt:Resolution><tt:Width>{p.width}</tt:Width><tt:Height>{p.height}</tt:Height></tt:Resolution>
<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>15</tt:FrameRateLimit>
<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>1024</tt:BitrateLimit>
</tt:RateControl><tt:H264><tt:GovLength>30</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile>
</tt:H264><tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address>
</tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>
<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration></trt:Profiles>"""


def _media_uri(response: str, uri: str) -> str:
    return (
        f"<trt:{response}><trt:MediaUri><tt:Uri>{escape(uri)}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
        f"<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:{response}>"
    )


class OnvifDevice(RigServer):
    """Serve on 127.0.0.1:`port`; `clock_offset` makes the device clock wrong on purpose."""

    def __init__(
        self,
        *,
        stream_uri: str,
        snapshot_uri: str | None = None,
        username: str = "admin",
        password: str = "",
        profiles: list[RigProfile] | None = None,
        clock_offset: dt.timedelta = dt.timedelta(),
        media_path: str = "/onvif/Media",
        port: int | None = None,
    ) -> None:
        self.stream_uri = stream_uri
        self.snapshot_uri = snapshot_uri
        self.username = username
        self.password = password
        self.profiles = profiles or [
            RigProfile("Profile_1", "mainStream", 1280, 720),
            RigProfile("Profile_2", "subStream", 640, 360),
        ]
        self.clock_offset = clock_offset
        self.media_path = media_path  # not the common default, so clients must ask
        self.calls: list[str] = []
        self.auth_failures = 0
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self.port = port or free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="onvif-device", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2)

    def __enter__(self) -> OnvifDevice:
        return self

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.clock_offset

    def authorized(self, envelope: ET.Element) -> bool:
        if not self.password:
            return True
        token = envelope.find(f".//{{{WSSE}}}UsernameToken")
        if token is None:
            return False
        username = token.findtext(f"{{{WSSE}}}Username", "")
        digest = token.findtext(f"{{{WSSE}}}Password", "")
        nonce = token.findtext(f"{{{WSSE}}}Nonce", "")
        created = token.findtext(f"{{{WSU}}}Created", "")
        try:
            when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
            raw_nonce = base64.b64decode(nonce, validate=True)
        except ValueError:
            return False
        if abs(when - self.now()) > MAX_SKEW:
            return False
        raw = raw_nonce + created.encode() + self.password.encode()
        want = base64.b64encode(hashlib.sha1(raw).digest()).decode()
        with self._lock:
            if nonce in self._nonces:
                return False  # a replayed token
            self._nonces.add(nonce)
        return username == self.username and secrets.compare_digest(want, digest)

    def answer(self, operation: str, request: ET.Element, host: str) -> tuple[int, str]:
        self.calls.append(operation)
        if operation == "GetSystemDateAndTime":
            t = self.now()
            return 200, (
                "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
                "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false"
                "</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
                f"<tt:UTCDateTime><tt:Time><tt:Hour>{t.hour}</tt:Hour><tt:Minute>{t.minute}"
                f"</tt:Minute><tt:Second>{t.second}</tt:Second></tt:Time><tt:Date><tt:Year>"
                f"{t.year}</tt:Year><tt:Month>{t.month}</tt:Month><tt:Day>{t.day}</tt:Day>"
                "</tt:Date></tt:UTCDateTime></tds:SystemDateAndTime>"
                "</tds:GetSystemDateAndTimeResponse>"
            )
        if not self.authorized(request):
            self.auth_failures += 1
            # ONVIF Core: a sender fault is HTTP 400, subcode ter:NotAuthorized.
            return 400, _fault("ter:NotAuthorized", "Sender not Authorized")
        if operation == "GetCapabilities":
            return 200, (
                "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>"
                # A LAN address, as a camera behind NAT reports it: clients keep the path.
                f"<tt:XAddr>http://192.0.2.10{self.media_path}</tt:XAddr>"
                "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>"
                "<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
                "</tt:StreamingCapabilities></tt:Media></tds:Capabilities>"
                "</tds:GetCapabilitiesResponse>"
            )
        if operation == "GetProfiles":
            profiles = "".join(_profile_xml(p) for p in self.profiles)
            return 200, f"<trt:GetProfilesResponse>{profiles}</trt:GetProfilesResponse>"
        if operation == "GetStreamUri":
            return 200, _media_uri("GetStreamUriResponse", self.stream_uri)
        if operation == "GetSnapshotUri":
            if self.snapshot_uri is None:
                return 400, _fault("ter:ActionNotSupported", "Snapshot not supported")
            return 200, _media_uri("GetSnapshotUriResponse", self.snapshot_uri)
        return 400, _fault("ter:ActionNotSupported", "Unknown action")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        device = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length)
                if self.path not in ("/onvif/device_service", device.media_path):
                    self.send_error(404)
                    return
                try:
                    envelope = ET.fromstring(data)
                    body = envelope.find(f"{{{S}}}Body")
                    operation = body[0].tag.rsplit("}", 1)[-1] if body is not None else ""
                except (ET.ParseError, IndexError):
                    envelope, operation = ET.Element("none"), ""
                status, xml = device.answer(operation, envelope, self.headers.get("Host", ""))
                payload = ENVELOPE.format(body=xml).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
