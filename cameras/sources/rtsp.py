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
  few kinds of CaptureError, and details are logged only through `mask_text`.
- One deadline per grab (`deadline_s`): each step also has its own bound (FFmpeg's interrupt
  callback, through PyAV's `timeout`), but those restart per step, and opening has two steps
  (handshake, then stream probing) that each get the full open timeout. So opening runs in a
  helper thread that the grab waits for no longer than its deadline; an abandoned open ends
  by itself when FFmpeg's own timeout fires, and closes what it opened.
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

from cameras.sources.base import CaptureError, Grab
from cameras.sources.base import CaptureErrorKind as Kind
from cameras.sources.deadline import Deadline
from cameras.sources.urls import mask_text, mask_url, split_credentials, with_credentials

log = logging.getLogger(__name__)

JPEG_QUALITY = 90
# A camera that never sends a keyframe would grow the buffer forever; past this many
# packets the buffer is dropped and the reader waits for the next keyframe.
MAX_BUFFERED_PACKETS = 1500
# How long close() waits for the reader thread at the end of a burst; it wakes at the next
# packet (1/fps) or at the read timeout when the camera has gone quiet.
_JOIN_GRACE = 1.0
# Inside a failed grab, close() waits only this long: the reader ends by itself (its read
# timeout) and closes the container it owns, so the grab need not wait for it.
_GRAB_CLOSE_WAIT = 0.2


def describe_error(exc: BaseException, elapsed: float, timeout: float) -> CaptureError:
    """An FFmpeg/PyAV failure as a CaptureError. Never includes the exception's own text."""
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return CaptureError(Kind.AUTH_FAILED)
    if isinstance(exc, ConnectionRefusedError):
        return CaptureError(Kind.REFUSED)
    if isinstance(exc, av.error.HTTPNotFoundError):
        return CaptureError(Kind.NOT_FOUND, message="Stream not found (wrong path).")
    if isinstance(exc, av.error.HTTPServerError):
        return CaptureError(Kind.CAMERA_ERROR)
    if isinstance(exc, av.error.ExitError | TimeoutError):
        # ExitError is PyAV's interrupt callback firing: our open/read deadline passed.
        return CaptureError(Kind.TIMED_OUT)
    if isinstance(exc, EOFError):
        return CaptureError(Kind.STREAM_ENDED)
    if isinstance(exc, av.error.InvalidDataError):
        # FFmpeg's RTSP socket timeout surfaces as "Invalid data found" (misleading).
        return CaptureError(Kind.TIMED_OUT if elapsed >= timeout * 0.9 else Kind.NO_STREAM)
    code = getattr(exc, "errno", None)
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return CaptureError(Kind.UNREACHABLE)
    if code == errno.ECONNRESET:
        return CaptureError(Kind.CONNECTION_CLOSED, message="Connection reset by the camera.")
    if isinstance(exc, OSError) and isinstance(code, int) and code > 0:
        name = errno.errorcode.get(code, "error")
        return CaptureError(Kind.NETWORK, message=f"Could not read the stream ({name}).")
    return CaptureError(Kind.OTHER, message="Could not read the stream.")


class _Opener:
    """`av.open` in a helper thread, so the grab waits for it no longer than its deadline.

    FFmpeg cannot be interrupted from outside; its own timeout (the interrupt callback) ends
    an open that takes too long. If the grab gave up first, the thread closes what it opened.
    """

    def __init__(
        self, url: str, options: dict[str, str], open_timeout: float, read_timeout: float
    ) -> None:
        self._url = url
        self._options = options
        self._timeout = open_timeout
        self._read_timeout = read_timeout
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._abandoned = False
        self._result: InputContainer | CaptureError = CaptureError(Kind.TIMED_OUT)
        self._failure = ""  # FFmpeg's own words, to log after masking
        threading.Thread(target=self._run, name="rtsp-open", daemon=True).start()

    def _run(self) -> None:
        started = time.monotonic()
        result: InputContainer | CaptureError
        try:
            result = av.open(
                self._url,
                mode="r",
                options=self._options,
                timeout=(self._timeout, self._read_timeout),
            )
        except Exception as exc:  # mapped to a kind; its text may hold the password
            result = describe_error(exc, time.monotonic() - started, self._timeout)
            self._failure = str(exc)
        with self._lock:
            if self._abandoned:
                if not isinstance(result, CaptureError):
                    result.close()
                return
            self._result = result
            self._done.set()

    def wait(self, seconds: float) -> tuple[InputContainer | CaptureError, str]:
        """The open container or why there is none, and FFmpeg's unmasked failure text."""
        self._done.wait(seconds)
        with self._lock:
            if not self._done.is_set():
                self._abandoned = True
                return CaptureError(Kind.TIMED_OUT), ""
            return self._result, self._failure


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
        self._error: CaptureError | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._read, name="rtsp-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        error = CaptureError(Kind.STREAM_ENDED)
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

    def newest_packets(self, timeout: float) -> list[Packet] | CaptureError:
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
                    return CaptureError(Kind.TIMED_OUT)
                self._cond.wait(remaining)

    def close(self, wait: float | None = None) -> None:
        """Stop the reader; wait for it up to `wait` s (default: until its read times out)."""
        with self._cond:
            self._stop = True
            self._error = self._error or CaptureError(Kind.CLOSED)
        self._thread.join(self.read_timeout + _JOIN_GRACE if wait is None else wait)


class RtspSource:
    """An RTSP camera. Connects on the first grab and keeps the session for the burst.

    `open_timeout` bounds connecting, `read_timeout` waiting for a new frame, and `deadline`
    (default: the two added, what a first grab needs at most) the whole of any one grab.
    """

    def __init__(
        self,
        url: str,
        *,
        username: str = "",
        password: str = "",
        open_timeout: float = 5,
        read_timeout: float = 5,
        deadline: float | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        bare, url_user, url_password = split_credentials(url)
        self._username = username or url_user
        self._password = password or url_password
        self._url = bare
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.deadline = open_timeout + read_timeout if deadline is None else deadline
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

    @property
    def deadline_s(self) -> float:
        return self.deadline

    def grab(self) -> Grab:
        return self.grab_within(Deadline(self.deadline))

    def grab_within(self, deadline: Deadline) -> Grab:
        """Grab, all of it over by `deadline` (a caller's that also covers other steps)."""
        fresh = self._session is None
        if self._session is None:
            self._session = self._open(deadline)
        result = self._session.newest_packets(min(self.read_timeout, deadline.remaining()))
        if isinstance(result, CaptureError) and not fresh and result.kind != Kind.TIMED_OUT:
            # The held session broke (camera rebooted, network blip): reconnect once, within
            # this grab's deadline. Not after a timeout: that already used the grab's time,
            # and a camera that stalls would accept the connection and stall again; the next
            # grab reconnects.
            log.info("rtsp %s: %s Reconnecting.", mask_url(self._url), result)
            self._close_session(_GRAB_CLOSE_WAIT)
            self._session = self._open(deadline)
            result = self._session.newest_packets(min(self.read_timeout, deadline.remaining()))
        if isinstance(result, CaptureError):
            self._close_session(_GRAB_CLOSE_WAIT)
            raise CaptureError(result.kind, message=str(result))
        frame = self._decode_newest(self._session.stream, result)
        self.stream_time = frame.time
        return self._encode(frame)

    def close(self) -> None:
        self._close_session()

    def _close_session(self, wait: float | None = None) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close(wait)

    def _open(self, deadline: Deadline) -> _Session:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise CaptureError(Kind.TIMED_OUT)
        open_timeout = min(self.open_timeout, remaining)
        options = {
            "rtsp_transport": "tcp",  # UDP loses packets through NAT and busy links
            "probesize": "32",
            "analyzeduration": "0",
            "allowed_media_types": "video",
            # FFmpeg's own socket timeout (µs); PyAV's interrupt deadline is the bound we rely
            # on, this is the backstop.
            "timeout": str(int(max(open_timeout, self.read_timeout) * 1_000_000)),
        }
        # The credentials must travel inside the URL; this string never leaves the opener.
        opener = _Opener(
            with_credentials(self._url, self._username, self._password),
            options,
            open_timeout,
            self.read_timeout,
        )
        result, failure = opener.wait(remaining)
        if failure:
            masked = mask_text(failure, (self._password,))
            log.info("rtsp %s: open failed: %s", mask_url(self._url), masked)
        # A fresh CaptureError: nothing chained to it holds FFmpeg's message (with the URL
        # and password).
        if isinstance(result, CaptureError):
            raise CaptureError(result.kind, message=str(result))
        container = result
        if not container.streams.video:
            container.close()
            raise CaptureError(Kind.NO_STREAM)
        self.opens += 1
        # Reads from here on answer to read_timeout (PyAV re-arms it per packet).
        return _Session(container, container.streams.video[0], self.read_timeout)

    def _mask(self, exc: BaseException) -> str:
        return mask_text(str(exc), (self._password,))

    def _decode_newest(self, stream: VideoStream, packets: list[Packet]) -> VideoFrame:
        codec = stream.codec_context
        newest: VideoFrame | None = None
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
        if newest is None:
            raise CaptureError(Kind.CORRUPT, message="Could not decode the video.")
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
            raise CaptureError(Kind.ENCODE_FAILED)
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
