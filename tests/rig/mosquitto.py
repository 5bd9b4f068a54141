"""A real Mosquitto broker (the Debian package's binary) on 127.0.0.1, for the MQTT tests.

Our own process with its own config on a free port: anonymous, no persistence, so each start
is an empty broker unless the test means otherwise. It never touches a system broker on 1883.
`stop()` terminates the process (what a broker going away looks like to a client) and
`start()` starts it again on the same port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.rig import RigServer, RigUnavailable, free_port, stop_process

MOSQUITTO = "/usr/sbin/mosquitto"


class MosquittoBroker(RigServer):
    def __init__(self, port: int | None = None) -> None:
        if not os.access(MOSQUITTO, os.X_OK):
            raise RigUnavailable(f"{MOSQUITTO} is missing: apt-get install mosquitto")
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="imgserv-mosquitto-"))
        self.config = self.root / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            f"log_dest file {self.root / 'mosquitto.log'}\n"
            "log_type all\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> MosquittoBroker:
        if self.running:
            return self
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited at start: {self.log()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log()}")

    def log(self) -> str:
        path = self.root / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process, grace=5)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> MosquittoBroker:
        return self.start()
