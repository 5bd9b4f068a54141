"""RTSP cameras through PyAV (FFmpeg in-process), one held session per capture burst.

Why this shape:
- In-process, so the camera password never appears on a command line (`ps`), and no
  process start per frame.
- `probesize=32`/`analyzeduration=0`: FFmpeg's default stream probing costs ~2 s per open.
- The session stays open across grabs. A background thread keeps reading (demux only, no
  decoding) so the socket never backs up between grabs: otherwise the next grab would return
  seconds-old buffered video, the camera may drop a client that stops reading, and RTSP
  keep-alives (sent by FFmpeg while reading) would stop. The thread keeps the packets since
  the latest keyframe; a grab decodes those to the newest frame. Decoding costs ~1 ms per
  720p frame, so only the grabs pay for it, not every frame of the stream.
- FFmpeg's error messages contain the URL with the password: every failure becomes one of a
  few plain sentences, and details are logged only through `mask_text`.
"""

from __future__ import annotations

import errno
import logging
import threading
import time

import av
import av.error
import cv2
import numpy as np
from av.container import InputContainer
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from cameras.sources.base import REFUSED, TIMED_OUT, CaptureError, Grab
from cameras.sources.urls import mask_text, mask_url, split_credentials, with_credentials

log = logging.getLogger(__name__)

AUTH_FAILED = "Authentication failed."
NOT_VIDEO = "Not a video stream."
ENDED = "Stream ended."

JPEG_QUALITY = 90
# A camera that never sends a keyframe would grow the buffer forever; past this many
# packets the buffer is dropped and the reader waits for the next keyframe.
MAX_BUFFERED_PACKETS = 1500
# How long close() waits for the reader thread; it wakes at the next packet (1/fps) or at
# the read timeout when the camera has gone quiet.
_JOIN_GRACE = 1.0


def describe_error(exc: BaseException, elapsed: float, timeout: float) -> str:
    """Plain words for an FFmpeg/PyAV failure. Never includes the exception's own text."""
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return AUTH_FAILED
    if isinstance(exc, ConnectionRefusedError):
        return REFUSED
    if isinstance(exc, av.error.HTTPNotFoundError):
        return "Stream not found (wrong path)."
    if isinstance(exc, av.error.HTTPServerError):
        return "The camera reported an internal error."
    if isinstance(exc, av.error.ExitError | TimeoutError):
        # ExitError is PyAV's interrupt callback firing: our open/read deadline passed.
        return TIMED_OUT
    if isinstance(exc, EOFError):
        return ENDED
    if isinstance(exc, av.error.InvalidDataError):
        # FFmpeg's RTSP socket timeout surfaces as "Invalid data found" (misleading).
        return TIMED_OUT if elapsed >= timeout * 0.9 else NOT_VIDEO
    code = getattr(exc, "errno", None)
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "Host unreachable."
    if code == errno.ECONNRESET:
        return "Connection reset by the camera."
    if isinstance(exc, OSError) and isinstance(code, int) and code > 0:
        return f"Could not read the stream ({errno.errorcode.get(code, 'error')})."
    return "Could not read the stream."


class _Session:
    """One open RTSP connection and the thread that keeps reading it."""

    def __init__(self, container: InputContainer, stream: VideoStream, read_timeout: float):
        self.container = container
        self.stream = stream
        self.read_timeout = read_timeout
        self._cond = threading.Condition()
        self._packets: list[Packet] = []  # latest keyframe first, then everything after it
        self._received = 0  # packets seen so far, to tell fresh video from what a grab used
        self._used = -1
        self._error: str | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._read, name="rtsp-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        error = ENDED
        started = time.monotonic()
        packets = self.container.demux(self.stream)
        try:
            for packet in packets:
                if self._stop:
                    return
                started = time.monotonic()
                if packet.size == 0:
                    continue  # PyAV's flush packets after EOF
                with self._cond:
                    if packet.is_keyframe:
                        self._packets = [packet]
                    elif self._packets:
                        if len(self._packets) >= MAX_BUFFERED_PACKETS:
                            self._packets = []
                        else:
                            self._packets.append(packet)
                    self._received += 1
                    self._cond.notify_all()
        except Exception as exc:  # every failure ends the session
            error = describe_error(exc, time.monotonic() - started, self.read_timeout)
            if not self._stop:
                log.info("rtsp reader stopped: %s", mask_text(str(exc)))
        finally:
            with self._cond:
                self._error = self._error or error
                self._cond.notify_all()
            # The reader owns the container, so it is never closed while FFmpeg reads it.
            try:
                getattr(packets, "close", lambda: None)()  # the demux generator first
                self.container.close()
            except Exception as exc:  # closing a broken session may fail
                log.debug("rtsp close: %s", mask_text(str(exc)))

    def newest_packets(self, timeout: float) -> list[Packet] | str:
        """Packets from the latest keyframe to the newest packet, or why there are none.

        Waits for video the previous grab has not used, so a stalled camera cannot hand out
        the same frame twice.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._error is not None:
                    return self._error
                if self._packets and self._received != self._used:
                    self._used = self._received
                    return list(self._packets)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return TIMED_OUT
                self._cond.wait(remaining)

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._error = self._error or "Closed."
        self._thread.join(self.read_timeout + _JOIN_GRACE)


class RtspSource:
    """An RTSP camera. Connects on the first grab and keeps the session for the burst."""

    def __init__(
        self,
        url: str,
        *,
        username: str = "",
        password: str = "",
        open_timeout: float = 5,
        read_timeout: float = 5,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        bare, url_user, url_password = split_credentials(url)
        self._username = username or url_user
        self._password = password or url_password
        self._url = bare
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.width = width
        self.height = height
        self.opens = 0  # sessions opened so far: a burst should need one
        # The last grabbed frame's time on the stream clock (s), None until the camera's
        # RTCP reports map it: tells a fresh frame from buffered video.
        self.stream_time: float | None = None
        self._session: _Session | None = None

    def __repr__(self) -> str:
        return f"RtspSource({mask_url(self._url)!r})"

    @property
    def container(self) -> InputContainer | None:
        """The open FFmpeg container, if any (tests check it survives a burst)."""
        return self._session.container if self._session else None

    def grab(self) -> Grab:
        fresh = self._session is None
        if self._session is None:
            self._session = self._open()
        result = self._session.newest_packets(self.read_timeout)
        if isinstance(result, str) and not fresh and result != TIMED_OUT:
            # The held session broke (camera rebooted, network blip): reconnect once. Not
            # after a timeout: that already used the grab's time, and a camera that stalls
            # would accept the connection and stall again; the next grab reconnects.
            log.info("rtsp %s: %s Reconnecting.", mask_url(self._url), result)
            self._close_session()
            self._session = self._open()
            result = self._session.newest_packets(self.read_timeout)
        if isinstance(result, str):
            self._close_session()
            raise CaptureError(result)
        frame = self._decode_newest(self._session.stream, result)
        self.stream_time = frame.time
        return self._encode(frame)

    def close(self) -> None:
        self._close_session()

    def _close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _open(self) -> _Session:
        options = {
            "rtsp_transport": "tcp",  # UDP loses packets through NAT and busy links
            "probesize": "32",
            "analyzeduration": "0",
            "allowed_media_types": "video",
            # FFmpeg's own socket timeout (µs); PyAV's interrupt deadline below is the bound
            # we rely on, this is the backstop.
            "timeout": str(int(max(self.open_timeout, self.read_timeout) * 1_000_000)),
        }
        started = time.monotonic()
        error: str | None = None
        container: InputContainer | None = None
        try:
            # The credentials must travel inside the URL; this string never leaves here.
            container = av.open(
                with_credentials(self._url, self._username, self._password),
                mode="r",
                options=options,
                timeout=(self.open_timeout, self.read_timeout),
            )
        except Exception as exc:  # mapped to plain words below
            error = describe_error(exc, time.monotonic() - started, self.open_timeout)
            log.info("rtsp %s: open failed: %s", mask_url(self._url), self._mask(exc))
        # Raised outside the except block so the CaptureError carries no __context__ that
        # holds FFmpeg's message (with the URL and password).
        if container is None:
            raise CaptureError(error or "Could not open the stream.")
        if not container.streams.video:
            container.close()
            raise CaptureError(NOT_VIDEO)
        self.opens += 1
        return _Session(container, container.streams.video[0], self.read_timeout)

    def _mask(self, exc: BaseException) -> str:
        return mask_text(str(exc), (self._password,))

    def _decode_newest(self, stream: VideoStream, packets: list[Packet]) -> VideoFrame:
        codec = stream.codec_context
        newest: VideoFrame | None = None
        error: str | None = None
        try:
            # Each grab starts at a keyframe: drop the reference frames of the last grab.
            codec.flush_buffers()
            for packet in packets:
                for frame in codec.decode(packet):
                    newest = frame
            # Drain frames the decoder is holding back (B-frames, frame threads).
            for frame in codec.decode(None):
                newest = frame
        except Exception as exc:  # a corrupt packet fails this grab only
            log.info("rtsp %s: decode failed: %s", mask_url(self._url), self._mask(exc))
            error = "Could not decode the video."
        if newest is None:
            raise CaptureError(error or "Could not decode the video.")
        return newest

    def _encode(self, frame: VideoFrame) -> Grab:
        # YUV -> BGR in OpenCV is ~2x cheaper than PyAV's swscale to bgr24 (measured at 720p).
        if frame.format.name == "yuv420p":
            bgr = cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420)
        else:
            bgr = frame.to_ndarray(format="bgr24")
        bgr = self._resize(bgr)
        ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise CaptureError("Could not encode the frame as JPEG.")
        height, width = bgr.shape[:2]
        return Grab(buffer.tobytes(), width, height)

    def _resize(self, bgr: np.ndarray) -> np.ndarray:
        height, width = bgr.shape[:2]
        want_w, want_h = self.width, self.height
        if want_w is None and want_h is None:
            return bgr
        if want_w is None:
            want_w = round(width * want_h / height) if want_h else width
        if want_h is None:
            want_h = round(height * want_w / width)
        if (want_w, want_h) == (width, height):
            return bgr
        shrinking = want_w * want_h < width * height
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        return cv2.resize(bgr, (want_w, want_h), interpolation=interpolation)
