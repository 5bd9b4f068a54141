"""A host that accepts TCP connections and never says a word: the hung camera."""

from __future__ import annotations

import socket
import threading

from tests.rig import RigServer, free_port


class SilentServer(RigServer):
    """Accepts connections on 127.0.0.1 and holds them open without reading or writing."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(64)
        # accept() in a thread is not woken by close() on Linux; poll so stop() is prompt.
        self._sock.settimeout(0.2)
        self._held: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            self._held.append(conn)  # keep a reference: closing it would answer with FIN

    @property
    def accepted(self) -> int:
        return len(self._held)

    def url(self, scheme: str = "rtsp", path: str = "/stream0") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self._stopped.set()
        self._sock.close()
        for conn in self._held:
            conn.close()
        self._thread.join(2)

    def __enter__(self) -> SilentServer:
        return self
