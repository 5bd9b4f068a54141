"""A throwaway Debian system booted with systemd: debootstrap + `systemd-nspawn --boot`.

The debootstrapped root (minbase + systemd + dbus, ~250 MB, about a minute) is kept in
`IMGSRV_CONTAINER_CACHE` (default /var/tmp/imgserv-container) and copied for each run, with the
apt and pip caches, so a second run downloads almost nothing. The container shares the host's
network (apt and pip reach the registries, and the test reaches its nginx on 127.0.0.1); it
registers with no machined (`--register=no`), so commands enter it with nsenter.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

CACHE = Path(os.environ.get("IMGSRV_CONTAINER_CACHE", "/var/tmp/imgserv-container"))
SUITE = "bookworm"
BASE_PACKAGES = "systemd,systemd-sysv,dbus,ca-certificates"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ContainerUnavailable(RuntimeError):
    """This machine cannot boot the container; the message says exactly why."""


def mirror() -> str:
    """The Debian mirror this machine's apt uses (debootstrap needs the same one)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        found = re.search(r"^URIs:\s*(\S+/debian)\s*$", sources.read_text(), re.M)
        if found:
            return found.group(1)
    listing = Path("/etc/apt/sources.list")
    if listing.exists():
        found = re.search(r"^deb\s+(\S+/debian)\s+\S+", listing.read_text(), re.M)
        if found:
            return found.group(1)
    return "http://deb.debian.org/debian"


def tools() -> None:
    """debootstrap and systemd-nspawn, installed from Debian's packages when missing."""
    if os.geteuid() != 0:
        raise ContainerUnavailable("booting a container needs root")
    missing = [
        package
        for tool, package in (
            ("debootstrap", "debootstrap"),
            ("systemd-nspawn", "systemd-container"),
        )
        if shutil.which(tool) is None
    ]
    if missing:
        subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True, timeout=900, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )  # fmt: skip


def base_root() -> Path:
    """The cached debootstrapped root, made once."""
    base = CACHE / f"base-{SUITE}"
    if (base / ".imgserv-base-ok").exists():
        return base
    shutil.rmtree(base, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", SUITE, str(base),
         mirror()],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        raise ContainerUnavailable(f"debootstrap failed: {done.stderr[-2000:]}")
    (base / ".imgserv-base-ok").touch()
    return base


class Container:
    """One booted copy of the base root. `run()` executes a bash script inside it."""

    def __init__(self, name: str, binds: dict[str, Path]) -> None:
        self.name = name
        self.folder = CACHE / f"run-{name}"
        self.root = self.folder / "root"
        self.log = self.folder / "console.log"
        self.binds = binds
        self.process: subprocess.Popen[bytes] | None = None
        self.leader = 0

    def boot(self, timeout: float = 120) -> Container:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        subprocess.run(["cp", "-a", "--reflink=auto", str(base_root()), str(self.root)], check=True)
        self._trust_what_the_host_trusts()
        caches = {"apt": "/var/cache/apt/archives", "pip": "/root/.cache/pip"}
        options = []
        for kind, inside in caches.items():
            outside = CACHE / f"{kind}-cache"
            outside.mkdir(parents=True, exist_ok=True)
            options.append(f"--bind={outside}:{inside}")
        options += [f"--bind-ro={outside}:{inside}" for inside, outside in self.binds.items()]
        with self.log.open("wb") as console:
            self.process = subprocess.Popen(
                ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--boot",
                 f"--machine={self.name}", f"--directory={self.root}", "--console=read-only",
                 *options],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ContainerUnavailable(
                    f"systemd-nspawn exited {self.process.returncode}: {self.console()[-3000:]}"
                )
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            with contextlib.suppress(OSError):
                pids = children.read_text().split()
                if pids:
                    self.leader = int(pids[0])
                    break
            time.sleep(0.2)
        if not self.leader:
            raise ContainerUnavailable(f"no init process in the container: {self.console()}")
        # Until systemd has its socket up, systemctl cannot connect at all: ask again.
        while True:
            state = self.run("systemctl is-system-running --wait", check=False, timeout=timeout)
            if "Failed to connect" not in state.stderr or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if state.stdout.strip() not in ("running", "degraded"):
            raise ContainerUnavailable(
                f"systemd did not come up: {state.stdout} {state.stderr} {self.console()[-3000:]}"
            )
        return self

    def _trust_what_the_host_trusts(self) -> None:
        """This machine reaches the registries through a proxy with its own CA, which the
        host trusts (/usr/local/share/ca-certificates, and /etc/pip.conf naming the system
        bundle for pip's own certifi). The container, on the same network, needs the same."""
        local = Path("/usr/local/share/ca-certificates")
        for certificate in local.glob("*.crt") if local.is_dir() else []:
            shutil.copy(certificate, self.root / "usr/local/share/ca-certificates")
        if Path("/etc/pip.conf").is_file():
            shutil.copy("/etc/pip.conf", self.root / "etc/pip.conf")
        subprocess.run(
            ["chroot", str(self.root), "update-ca-certificates"], check=True, capture_output=True
        )

    def console(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def run(
        self,
        script: str,
        env: dict[str, str] | None = None,
        *,
        check: bool = True,
        timeout: float = 900,
    ) -> subprocess.CompletedProcess[str]:
        """bash -c SCRIPT inside the container, as root, with a clean environment plus ENV."""
        variables = [f"{key}={value}" for key, value in (env or {}).items()]
        done = subprocess.run(
            ["nsenter", f"--target={self.leader}", "--mount", "--uts", "--ipc", "--net", "--pid",
             "--", "env", "-i", f"PATH={PATH}", "HOME=/root", "LANG=C.UTF-8", *variables,
             "bash", "-c", script],
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(
                f"exit {done.returncode} from {script!r}\n--- stdout\n{done.stdout[-5000:]}"
                f"\n--- stderr\n{done.stderr[-5000:]}"
            )
        return done

    def popen(self, script: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        variables = [f"{key}={value}" for key, value in (env or {}).items()]
        return subprocess.Popen(
            ["nsenter", f"--target={self.leader}", "--mount", "--uts", "--ipc", "--net", "--pid",
             "--", "env", "-i", f"PATH={PATH}", "HOME=/root", "LANG=C.UTF-8", *variables,
             "bash", "-c", script],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def close(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            # nspawn turns SIGTERM into a clean poweroff of the container's systemd.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        if os.environ.get("IMGSRV_CONTAINER_KEEP") != "1":
            shutil.rmtree(self.folder, ignore_errors=True)
