"""Start and stop the fake RTSP camera (`rtsp_cam.py`, gst-rtsp-server) as a subprocess.

The camera runs under Debian's /usr/bin/python3 because python3-gi and GstRtspServer are
system packages (deploy/system-packages.txt) that the project venv cannot import. Its
password goes through the environment, never argv, so `ps` shows none.
"""

from __future__ import annotations

import functools
import os
import select
import signal
import subprocess
import time
from pathlib import Path

from tests.rig import RigServer, RigUnavailable, free_port

SYSTEM_PYTHON = "/usr/bin/python3"
CAMERA_SCRIPT = Path(__file__).with_name("rtsp_cam.py")
# GStreamer elements the camera pipeline uses, and the Debian package that has each.
ELEMENTS = {
    "videotestsrc": "gstreamer1.0-plugins-base",
    "videoconvert": "gstreamer1.0-plugins-base",
    "clockoverlay": "gstreamer1.0-x",
    "x264enc": "gstreamer1.0-plugins-ugly",
    "rtph264pay": "gstreamer1.0-plugins-good",
    "decodebin": "gstreamer1.0-plugins-base",
    "avdec_h264": "gstreamer1.0-libav",
}
_PROBE = """
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
print(" ".join(e for e in {elements!r} if Gst.ElementFactory.find(e) is None))
"""


@functools.cache
def unavailable_reason() -> str | None:
    """Why the RTSP camera cannot run here, or None when it can."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} is missing (the RTSP rig needs Debian's python3 with python3-gi)"
    probe = _PROBE.format(elements=list(ELEMENTS))
    try:
        result = subprocess.run(
            [SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "probing GStreamer timed out"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        return (
            "the RTSP rig needs python3-gi and gir1.2-gst-rtsp-server-1.0 "
            f"(apt-get install them; see deploy/system-packages.txt): {last}"
        )
    missing = result.stdout.split()
    if missing:
        packages = sorted({ELEMENTS[e] for e in missing})
        return f"GStreamer elements {missing} missing: apt-get install {' '.join(packages)}"
    return None


class RtspServer(RigServer):
    """One fake camera. `url` has no credentials; pass them to the source separately."""

    def __init__(
        self,
        *,
        username: str = "admin",
        password: str = "",
        auth: str = "digest",
        size: tuple[int, int] = (640, 480),
        fps: int = 15,
        gop: int = 30,
        clip: Path | None = None,
        path: str = "/stream0",
        port: int | None = None,
    ) -> None:
        reason = unavailable_reason()
        if reason:
            raise RigUnavailable(reason)
        self.username = username
        self.password = password
        self.size = size
        self.path = path
        self.port = port or free_port()
        self._env = {
            **os.environ,
            "RTSP_PORT": str(self.port),
            "RTSP_PATH": path,
            "RTSP_USER": username,
            "RTSP_AUTH": auth,
            "SIZE": f"{size[0]}x{size[1]}",
            "FPS": str(fps),
            "GOP": str(gop),
        }
        if password:
            self._env["RTSP_PASS"] = password
        if clip is not None:
            self._env["RTSP_CLIP"] = str(clip)
        self._process: subprocess.Popen[str] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}{self.path}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, ready_timeout: float = 15) -> RtspServer:
        if self.running:
            return self
        # A restart right after a kill may find the port briefly held; retry a few times.
        deadline = time.monotonic() + ready_timeout
        last_output = ""
        while True:
            process = subprocess.Popen(
                [SYSTEM_PYTHON, str(CAMERA_SCRIPT)],
                env=self._env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            line = self._first_line(process, deadline)
            if line.startswith("serving"):
                self._process = process
                self.starts += 1
                return self
            last_output = line
            process.kill()
            process.wait()
            if "could not bind" not in line or time.monotonic() > deadline:
                raise RuntimeError(f"RTSP camera did not start: {last_output!r}")
            time.sleep(0.2)

    @staticmethod
    def _first_line(process: subprocess.Popen[str], deadline: float) -> str:
        assert process.stdout is not None
        remaining = max(0.1, deadline - time.monotonic())
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if not ready:
            return "(no output before the deadline)"
        return process.stdout.readline().strip() or f"(exited with {process.wait()})"

    def stop(self, hard: bool = False) -> None:
        """Stop the camera: SIGTERM (clean RTSP teardown) or SIGKILL (`hard`, a crash)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGCONT)  # a paused camera cannot handle SIGTERM
        process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()

    def pause(self) -> None:
        """Freeze the camera (SIGSTOP): connections stay open, nothing more is sent."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def restart(self) -> RtspServer:
        self.stop()
        return self.start()

    def __enter__(self) -> RtspServer:
        return self.start()
