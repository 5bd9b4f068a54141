"""A real OpenSSH server on 127.0.0.1 for publishing tests (RIG.md §3).

Throwaway host key, one test user that can log in with a key only, and a bundle folder that
user owns. The folder lives under a world-traversable temp dir (pytest's own tmp is 0700 to
root), so both the test user and nginx's workers can reach it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.rig import RigServer, RigUnavailable, free_port, stop_process

SSHD = "/usr/sbin/sshd"
USER = "imgservrig"


def unavailable_reason() -> str | None:
    for tool in (SSHD, "/usr/bin/ssh", "/usr/bin/rsync", "/usr/bin/ssh-keygen"):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing: apt-get install openssh-server openssh-client rsync"
    if os.geteuid() != 0:
        return "the sshd rig creates a system user and needs root"
    return None


def ensure_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True, timeout=30)
    # '*' = no password but not locked: sshd without PAM refuses locked ('!') accounts.
    subprocess.run(["usermod", "-p", "*", name], check=True, timeout=30)


class SshServer(RigServer):
    def __init__(self, user: str = USER) -> None:
        reason = unavailable_reason()
        if reason:
            raise RigUnavailable(reason)
        ensure_user(user)
        self.user = user
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="imgserv-sshd-"))
        self.root.chmod(0o755)
        self.etc = self.root / "etc"
        self.etc.mkdir(mode=0o700)
        self.bundle = self.root / "bundle"
        self.bundle.mkdir()
        shutil.chown(self.bundle, user)
        # sshd reads it as the user logging in, so it is outside the root-only etc/.
        keys = self.root / "keys"
        keys.mkdir(mode=0o755)
        self.authorized_keys = keys / "authorized_keys"
        self.authorized_keys.write_text("")
        self.authorized_keys.chmod(0o644)
        self.host_key = self.etc / "host_ed25519"
        self.new_host_key()
        self._process: subprocess.Popen[bytes] | None = None

    def new_host_key(self) -> None:
        """A fresh host key, as when a server is reinstalled (or impersonated)."""
        for path in (self.host_key, Path(f"{self.host_key}.pub")):
            path.unlink(missing_ok=True)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.host_key)],
            check=True,
            timeout=30,
        )

    def install_gate(self, script: Path) -> Path:
        """A copy of deploy/publish-gate.py the test user can run (the repo may not be
        readable to it)."""
        folder = self.root / "gate"
        folder.mkdir(exist_ok=True)
        gate = folder / "publish-gate"
        shutil.copyfile(script, gate)
        gate.chmod(0o755)
        return gate

    def authorize(self, line: str) -> None:
        """An authorized_keys line: a bare public key or one with options (command=…)."""
        self.authorized_keys.write_text(self.authorized_keys.read_text() + line.strip() + "\n")

    def config(self) -> Path:
        path = self.etc / "sshd_config"
        path.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
            f"PidFile {self.etc / 'sshd.pid'}\nAuthorizedKeysFile {self.authorized_keys}\n"
            # The rig's files are root's, which StrictModes would refuse for this user.
            "StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            f"PubkeyAuthentication yes\nUsePAM no\nAllowUsers {self.user}\n"
        )
        return path

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> SshServer:
        if self.running:
            return self
        Path("/run/sshd").mkdir(exist_ok=True)
        config = self.config()
        subprocess.run([SSHD, "-t", "-f", str(config)], check=True, timeout=30)
        # -D: stays in the foreground as our child, so stop() ends exactly this server.
        self._process = subprocess.Popen(
            [SSHD, "-D", "-f", str(config), "-E", str(self.etc / "sshd.log")]
        )
        self._wait_listening()
        return self

    def _wait_listening(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"sshd did not listen on {self.port}: {self.log()}")

    def log(self) -> str:
        path = self.etc / "sshd.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process, grace=5)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> SshServer:
        return self.start()
