"""Each way a grab or a publish fails maps to one kind, and the message is made from it.

Callers branch on `.kind`; these pin the mapping from what the OS, urllib, FFmpeg, ssh and
rsync report. The same kinds are asserted end to end against the real rig in
tests/cameras/test_*_source.py and tests/publishing/test_rsync_publish.py.
"""

from __future__ import annotations

import errno
import pickle
import socket
import urllib.error
import xml.etree.ElementTree as ET

import av.error
import pytest

from cameras.sources.base import CaptureError, CaptureErrorKind, network_error
from cameras.sources.http_snapshot import describe_status
from cameras.sources.onvif import NS, OnvifError, _describe_fault
from cameras.sources.rtsp import describe_error
from publishing.transports import TransportError, TransportErrorKind, explain, local_kind

K = CaptureErrorKind
T = TransportErrorKind


def test_it_makes_the_message_from_the_kind_and_its_detail() -> None:
    assert str(CaptureError(K.TIMED_OUT)) == "Timed out."
    assert str(CaptureError(K.NOT_JPEG, "got text/html")) == "Not a JPEG image (got text/html)."
    assert str(CaptureError(K.TOO_LARGE, "over 20 MB")) == "Image too large (over 20 MB)."
    worded = CaptureError(K.NOT_FOUND, message="Snapshot not found (wrong path).")
    assert (worded.kind, str(worded)) == (K.NOT_FOUND, "Snapshot not found (wrong path).")


def test_it_keeps_a_plain_message_as_kind_other() -> None:
    error = CaptureError("Corrupt frame: the image could not be decoded.")
    assert error.kind == K.OTHER
    assert str(error) == "Corrupt frame: the image could not be decoded."


def test_it_keeps_the_kind_through_pickling() -> None:
    for error in (CaptureError(K.AUTH_FAILED), OnvifError(K.NOT_ONVIF, "no ONVIF service")):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), copy.kind, str(copy)) == (type(error), error.kind, str(error))
    publish = TransportError(T.DISK_FULL)
    copy = pickle.loads(pickle.dumps(publish))
    assert (copy.kind, str(copy)) == (T.DISK_FULL, str(publish))


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), K.REFUSED),
        (urllib.error.URLError(ConnectionRefusedError()), K.REFUSED),
        (TimeoutError("timed out"), K.TIMED_OUT),
        (urllib.error.URLError(TimeoutError()), K.TIMED_OUT),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), K.HOST_NOT_FOUND),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), K.NETWORK),
    ],
)
def test_it_maps_network_failures_to_their_kind(exc: BaseException, kind: K) -> None:
    error = network_error(exc)
    assert error is not None and error.kind == kind


def test_it_leaves_other_failures_to_the_source() -> None:
    assert network_error(ValueError("unknown url type")) is None


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (401, K.AUTH_FAILED, "Authentication failed."),
        (403, K.FORBIDDEN, "Access denied (the camera user lacks permission)."),
        (404, K.NOT_FOUND, "Snapshot not found (wrong path)."),
        (302, K.TOO_MANY_REDIRECTS, "Too many redirects."),
        (500, K.CAMERA_ERROR, "The camera reported an internal error (HTTP 500)."),
        (418, K.REQUEST_REFUSED, "The camera refused the request (HTTP 418)."),
    ],
)
def test_it_maps_http_statuses_to_their_kind(status: int, kind: K, message: str) -> None:
    error = describe_status(status)
    assert (error.kind, str(error)) == (kind, message)


@pytest.mark.parametrize(
    ("exc", "elapsed", "kind"),
    [
        (av.error.HTTPUnauthorizedError(1, "401"), 0.1, K.AUTH_FAILED),
        (av.error.HTTPForbiddenError(1, "403"), 0.1, K.AUTH_FAILED),
        (av.error.HTTPNotFoundError(1, "404"), 0.1, K.NOT_FOUND),
        (av.error.HTTPServerError(1, "500"), 0.1, K.CAMERA_ERROR),
        (av.error.ExitError(1, "interrupted"), 5.0, K.TIMED_OUT),
        (av.error.EOFError(1, "end of file"), 0.1, K.STREAM_ENDED),
        # FFmpeg says "Invalid data" both for a timeout and for a server that is no camera.
        (av.error.InvalidDataError(1, "invalid data"), 5.0, K.TIMED_OUT),
        (av.error.InvalidDataError(1, "invalid data"), 0.1, K.NO_STREAM),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), 0.1, K.REFUSED),
        (OSError(errno.EHOSTUNREACH, "no route"), 0.1, K.UNREACHABLE),
        (OSError(errno.ECONNRESET, "reset"), 0.1, K.CONNECTION_CLOSED),
        (OSError(errno.EPIPE, "broken pipe"), 0.1, K.NETWORK),
        (RuntimeError("?"), 0.1, K.OTHER),
    ],
)
def test_it_maps_ffmpeg_failures_to_their_kind(exc: BaseException, elapsed: float, kind: K):
    error = describe_error(exc, elapsed, timeout=5.0)
    assert error.kind == kind
    assert "://" not in str(error)


def fault(subcode: str, reason: str = "") -> ET.Element:
    s = NS["s"]
    return ET.fromstring(
        f'<s:Fault xmlns:s="{s}" xmlns:ter="http://www.onvif.org/ver10/error">'
        "<s:Code><s:Value>s:Sender</s:Value>"
        f"<s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code>"
        f"<s:Reason><s:Text>{reason}</s:Text></s:Reason></s:Fault>"
    )


def test_it_maps_onvif_faults_to_their_kind() -> None:
    assert _describe_fault(fault("ter:NotAuthorized"), "GetProfiles").kind == K.AUTH_FAILED
    unsupported = _describe_fault(fault("ter:ActionNotSupported"), "GetSnapshotUri")
    assert unsupported.kind == K.UNSUPPORTED
    assert str(unsupported) == "The camera does not support GetSnapshotUri."
    assert _describe_fault(fault("ter:InvalidArgVal"), "GetStreamUri").kind == K.REQUEST_REFUSED


@pytest.mark.parametrize(
    ("stderr", "kind"),
    [
        (
            "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
            "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
            "Host key verification failed.\n",
            T.HOST_KEY_MISMATCH,
        ),
        ("Host key verification failed.\n", T.HOST_KEY_MISMATCH),
        ("imgserv@vps.example: Permission denied (publickey).\n", T.KEY_REFUSED),
        ("u@h: Permission denied (publickey,password,keyboard-interactive).\n", T.KEY_REFUSED),
        ("Received disconnect: Too many authentication failures\n", T.KEY_REFUSED),
        # rsync on the server may not write the folder: not the key's fault.
        (
            'rsync: [Receiver] mkdir "/srv/imgserv/bundle/releases/20260101T000000000000Z/" '
            "failed: Permission denied (13)\n"
            "rsync error: error in file IO (code 11) at main.c(808) [Receiver=3.5.0]\n",
            T.PERMISSION_DENIED,
        ),
        ("mv: cannot move 'current.tmp' to 'current': Permission denied\n", T.PERMISSION_DENIED),
        ('rsync: mkstemp "/srv/x/.a.b" failed: Read-only file system (30)\n', T.PERMISSION_DENIED),
        (
            'rsync: write failed on "/srv/x/latest.mp4": No space left on device (28)\n',
            T.DISK_FULL,
        ),
        ("ssh: connect to host vps port 22: Connection refused\n", T.REFUSED),
        ("ssh: connect to host vps port 22: Connection timed out\n", T.TIMED_OUT),
        (
            "[sender] io timeout after 60 seconds -- exiting\nrsync error: timeout in data "
            "send/receive (code 30)\n",
            T.TIMED_OUT,
        ),
        ("ssh: connect to host vps port 22: No route to host\n", T.UNREACHABLE),
        ("ssh: Could not resolve hostname vps: Name or service not known\n", T.HOST_NOT_FOUND),
        ("Warning: Identity file /k/id_ed25519 not accessible: No such identity\n", T.KEY_MISSING),
        ("Connection closed by 203.0.113.5 port 22\n", T.CONNECTION_CLOSED),
        ("publish-gate: only uploads with rsync are allowed\n", T.GATE_REFUSED),
        ("rsync: something new went wrong\n", T.FAILED),
    ],
)
def test_it_maps_ssh_and_rsync_failures_to_their_kind(stderr: str, kind: T) -> None:
    error = explain("rsync", 1, stderr)
    assert error.kind == kind
    if kind == T.PERMISSION_DENIED:
        assert "permission denied" in str(error).lower()
        assert "refused the key" not in str(error)


def test_it_quotes_the_gate_and_the_last_line_of_an_unknown_failure() -> None:
    gate = explain("ssh", 1, "publish-gate: no release 20260101T000000000000Z\n")
    assert str(gate) == (
        "The server's publish gate refused the command: no release 20260101T000000000000Z"
    )
    other = explain("rsync", 12, "rsync: one\nrsync error: protocol data stream (code 12)\n")
    assert str(other) == "rsync failed (exit 12): rsync error: protocol data stream (code 12)"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (errno.EACCES, T.PERMISSION_DENIED),
        (errno.EROFS, T.PERMISSION_DENIED),
        (errno.ENOSPC, T.DISK_FULL),
        (errno.EDQUOT, T.DISK_FULL),
        (errno.ENOTDIR, T.WRITE_FAILED),
    ],
)
def test_it_maps_local_folder_failures_to_their_kind(code: int, kind: T) -> None:
    assert local_kind(OSError(code, "x")) == kind
