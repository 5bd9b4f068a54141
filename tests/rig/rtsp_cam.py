#!/usr/bin/python3
"""Fake RTSP IP camera (gst-rtsp-server), launched by `tests.rig.rtsp_server`.

Runs under the SYSTEM python (/usr/bin/python3): python3-gi and GstRtspServer are Debian
packages the project venv cannot import. Kept dependency-free and python3.11-compatible.

Configuration comes from the environment, never argv, so the password stays out of `ps`
(the tests read every process's command line to prove imgserv keeps it out too):
  RTSP_PORT (required), RTSP_PATH (/stream0), RTSP_USER (admin), RTSP_PASS (unset: no auth),
  RTSP_AUTH (digest|basic), SIZE (WxH, 640x480), FPS (15), GOP (30 frames),
  RTSP_CLIP (a video file to serve instead of the test pattern; it plays once, then EOS).
Prints "serving rtsp://..." once the port is bound; SIGTERM/SIGINT stop it.
"""

import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

Gst.init(None)
port = os.environ["RTSP_PORT"]
path = os.environ.get("RTSP_PATH", "/stream0")
user = os.environ.get("RTSP_USER", "admin")
password = os.environ.get("RTSP_PASS")
mode = os.environ.get("RTSP_AUTH", "digest")
gop = int(os.environ.get("GOP", "30"))
fps = int(os.environ.get("FPS", "15"))
width, height = os.environ.get("SIZE", "640x480").split("x")
clip = os.environ.get("RTSP_CLIP")

raw = f"video/x-raw,width={width},height={height},framerate={fps}/1"
if clip:
    # Decode and re-encode so every clip looks like the camera's own H.264 stream.
    source = (
        f'filesrc location="{clip}" ! decodebin ! videoconvert ! videoscale ! videorate ! {raw}'
    )
else:
    # clockoverlay needs gstreamer1.0-x (pango); without it DESCRIBE answers 503.
    source = (
        f"videotestsrc is-live=true pattern=smpte ! {raw} "
        f'! clockoverlay time-format="%Y-%m-%d %H:%M:%S"'
    )
launch = (
    f"( {source} ! videoconvert ! video/x-raw,format=I420 "
    f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate=1000 "
    f"! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)

server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
# The default listen backlog (5) drops simultaneous connects, and each dropped SYN costs the
# client a 1 s retransmit: one server standing in for many cameras needs a deep queue.
server.set_backlog(256)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(launch)
factory.set_shared(True)  # one encoder for all clients, like a real camera

if password:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
    if mode == "digest":
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.add_digest(user, password, token)
    else:
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    perms = GstRtspServer.RTSPPermissions()
    perms.add_role("user")
    perms.add_permission_for_role("user", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    perms.add_permission_for_role("user", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    factory.set_permissions(perms)

server.get_mount_points().add_factory(path, factory)
if server.attach(None) == 0:
    sys.exit(f"could not bind 127.0.0.1:{port}")
loop = GLib.MainLoop()
for signum in (signal.SIGINT, signal.SIGTERM):
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
parent = os.getppid()


def quit_if_orphaned() -> bool:
    # A test run killed hard never stops its cameras: exit once the parent is gone.
    if os.getppid() != parent:
        loop.quit()
        return False
    return True


GLib.timeout_add_seconds(1, quit_if_orphaned)
auth_name = mode if password else "none"
print(f"serving rtsp://127.0.0.1:{port}{path} auth={auth_name} size={width}x{height}", flush=True)
loop.run()
