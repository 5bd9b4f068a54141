"""One overall deadline per grab, whatever the camera does.

A socket timeout bounds one read, and restarts with every byte: a camera that trickles a byte
a second never trips it. So each grab gets a `Deadline`, and HTTP requests made during the
grab go through `guarded_opener`, whose connections register their sockets with a
`SocketGuard`. When the deadline passes, the guard shuts those sockets down; whatever
http.client or ssl was blocked on (connect, TLS handshake, status line, headers, body)
returns at once, and the source reports TIMED_OUT because `guard.fired` is set.

The guard's timer is one short-lived thread per guarded block, cancelled and joined on exit,
so nothing outlives the grab.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import threading
import time
import urllib.request
from types import TracebackType
from typing import Any


class Deadline:
    """The moment a grab must be over by."""

    def __init__(self, seconds: float) -> None:
        self.expires = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.expires - time.monotonic())


class SocketGuard:
    """Shuts down every socket registered with it once the deadline passes.

    Use as a context manager around the whole exchange. It keeps a duplicate of each socket's
    descriptor, so a socket that ssl has since wrapped (and detached) is still reachable, and
    the descriptor number cannot be reused by another connection before the guard ends.
    """

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._fired = False
        self._timer: threading.Timer | None = None

    @property
    def fired(self) -> bool:
        """The deadline passed while the guard was active (reads since then were cut short)."""
        return self._fired

    def __enter__(self) -> SocketGuard:
        self._timer = threading.Timer(self.deadline.remaining(), self._fire)
        self._timer.name = "grab-deadline"
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            timer.join()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def register(self, sock: socket.socket) -> None:
        """Watch this socket; shut it down at once if the deadline has already passed."""
        duplicate = sock.dup()
        with self._lock:
            self._sockets.append(duplicate)
            fired = self._fired
        if fired:
            _shut(duplicate)

    def connection_timeout(self, timeout: float | None) -> float:
        """The per-step socket timeout, never past the deadline; TimeoutError when it has
        passed (so no new connection starts after it)."""
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        return remaining if timeout is None else min(timeout, remaining)

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


class _GuardedConnection(http.client.HTTPConnection):
    """Connects within the deadline and registers its socket with the guard."""

    def __init__(self, *args: Any, guard: SocketGuard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = guard
        self._create_connection = self._create_guarded

    def _create_guarded(
        self, address: tuple[str, int], timeout: float | None = None, *args: Any
    ) -> socket.socket:
        sock = socket.create_connection(address, self._guard.connection_timeout(timeout), *args)
        # Before any byte moves (the TLS handshake included, for HTTPS).
        self._guard.register(sock)
        return sock


class _GuardedHTTPSConnection(_GuardedConnection, http.client.HTTPSConnection):
    pass


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, guard: SocketGuard) -> None:
        super().__init__()
        self._guard = guard

    def do_open(self, http_class: Any, req: Any, **http_conn_args: Any) -> Any:
        connection = functools.partial(_GuardedConnection, guard=self._guard)
        return super().do_open(connection, req, **http_conn_args)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, guard: SocketGuard) -> None:
        super().__init__()
        self._guard = guard

    def do_open(self, http_class: Any, req: Any, **http_conn_args: Any) -> Any:
        connection = functools.partial(_GuardedHTTPSConnection, guard=self._guard)
        return super().do_open(connection, req, **http_conn_args)


def guarded_opener(
    guard: SocketGuard, *handlers: urllib.request.BaseHandler
) -> urllib.request.OpenerDirector:
    """A urllib opener (with `handlers` added: auth, redirects) whose every connection, the
    redirected and re-authenticated ones included, is bound by the guard's deadline."""
    return urllib.request.build_opener(
        _GuardedHTTPHandler(guard), _GuardedHTTPSHandler(guard), *handlers
    )
