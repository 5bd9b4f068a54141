"""`publish setup-vps` and `update-vps` against a throwaway VPS (tests/publishing/vps_rig.py):
a real sshd with a root password, real nginx on :80/:443, real certbot against the pebble
ACME server (Debian's package) with HTTP-01 through that nginx, then a real publish over
rsync through the installed gate, fetched over HTTPS with the issued certificate checked.
Only ufw is a recording stand-in (a real one would change this sandbox's packet filter)."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

from tests.publishing import vps_rig
from tests.publishing.vps_rig import CameraServer

# The rig's fixtures, used by name below.
vps = vps_rig.vps
camera_server = vps_rig.camera_server

ROOT = Path(__file__).resolve().parents[2]
ADD = "publish add vps --rsync imgserv-publish@localhost:/srv/imgserv/bundle"
SETUP = "publish setup-vps vps --login root@localhost --domain {domain} --email ops@example.org"


def manage(camera_server: CameraServer, command: str):
    return camera_server.shell(f".venv/bin/python manage.py {command}")


def https_get(camera_server: CameraServer, path: str) -> tuple[int, bytes]:
    """As a visitor's browser: on the VPS's network, trusting only the ACME CA's root."""
    done = subprocess.run(
        camera_server.vps.camera_side(
            ["curl", "-sS", "--cacert", camera_server.env["SSL_CERT_FILE"], "-o", "-",
             "-w", "\n%{http_code}", f"https://localhost{path}"]
        ),
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body, _, code = done.stdout.rpartition(b"\n")
    return int(code), body


def test_it_sets_up_the_vps_and_a_publish_lands_and_is_served_over_https(camera_server, vps):
    gif = camera_server.prepare()
    assert manage(camera_server, ADD).code == 0
    done = manage(camera_server, SETUP.format(domain="localhost"))
    assert done.code == 0, done.output
    out = done.output
    # The fingerprint was shown and confirmed before anything was pinned or sent.
    fingerprint = vps.vps("ssh-keygen", "-lf", "/etc/ssh/ssh_host_ed25519_key.pub").stdout
    assert fingerprint.split()[1] in out
    assert out.index("Pin it [y/N]") < out.index("Pinned.") < out.index("Password of root@")
    assert "DNS: localhost resolves to this server" in out
    assert "Congratulations, all simulated renewals succeeded" in out
    assert "vps: published" in out
    assert "https://localhost/status.json answers over HTTPS: 1 camera" in out

    # The key, limited to the gate, in a root-owned authorized_keys of the publish user.
    public = (camera_server.data_dir / "publishing" / "id_ed25519.pub").read_text().strip()
    keys = vps.read("/var/lib/imgserv-publish/.ssh/authorized_keys")
    gate = 'command="/usr/local/lib/imgserv/publish-gate /srv/imgserv/bundle",restrict'
    assert keys == f"{gate} {public}\n"
    owner = vps.vps("stat", "-c", "%U %a", "/var/lib/imgserv-publish/.ssh/authorized_keys")
    assert owner.stdout.split() == ["root", "644"]
    installed = vps.read("/usr/local/lib/imgserv/publish-gate")
    assert installed == (ROOT / "deploy" / "publish-gate.py").read_text()
    # The key can do nothing but publish.
    target_key = camera_server.data_dir / "publishing" / "id_ed25519"
    known = camera_server.data_dir / "publishing" / "known_hosts-vps"
    refused = camera_server.shell(
        shlex.join(["ssh", "-i", str(target_key), "-o", "BatchMode=yes",
                    "-o", f"UserKnownHostsFile={known}", "imgserv-publish@localhost",
                    "cat /etc/shadow"])
    )  # fmt: skip
    assert refused.code != 0 and "publish-gate:" in refused.output

    # A certificate from the ACME server, renewed by the certbot package's job, reloading nginx.
    renewal = vps.read("/etc/letsencrypt/renewal/localhost.conf")
    assert "authenticator = webroot" in renewal and "nginx -s reload" in renewal
    assert "server = https://127.0.0.1:14000/dir" in renewal
    assert vps.vps("test", "-f", "/etc/cron.d/certbot").returncode == 0
    issuer = vps.vps(
        "openssl", "x509", "-noout", "-issuer", "-in", "/etc/letsencrypt/live/localhost/cert.pem"
    )
    assert "Pebble" in issuer.stdout
    assert vps.read("/var/log/ufw-calls.log").splitlines()[-2:] == [
        "ufw allow 80/tcp",
        "ufw allow 443/tcp",
    ]
    assert "DOMAIN=localhost" in vps.read("/etc/default/imgserv-vps").splitlines()

    # Served over HTTPS with a certificate the visitor's CA store accepts, HTTP redirects.
    status, body = https_get(camera_server, "/main-street/latest.gif")
    assert (status, body) == (200, gif.read_bytes())
    status, body = https_get(camera_server, "/status.json")
    assert status == 200 and json.loads(body)["cameras"][0]["slug"] == "main-street"
    redirect = camera_server.shell("curl -sS -o /dev/null -w '%{http_code}' http://localhost/")
    assert redirect.output.strip() == "301"

    # A second run changes nothing that works and asks no question about the pinned key.
    again = manage(camera_server, SETUP.format(domain="localhost"))
    assert again.code == 0, again.output
    assert "pinned already and unchanged" in again.output
    assert "certificate for localhost: already there" in again.output


def test_it_stops_before_certbot_when_the_domain_does_not_point_at_the_server(camera_server, vps):
    camera_server.prepare()
    manage(camera_server, ADD)
    elsewhere = manage(camera_server, SETUP.format(domain="elsewhere.imgserv.test"))
    assert elsewhere.code == 1
    assert "elsewhere.imgserv.test resolves to 192.0.2.10, which is not this server" in (
        elsewhere.output
    )
    assert "vps-setup.sh exit 3" in elsewhere.output and "Nothing was published" in (
        elsewhere.output
    )
    nowhere = manage(camera_server, SETUP.format(domain="nowhere.invalid"))
    assert nowhere.code == 1 and "nowhere.invalid does not resolve" in nowhere.output
    assert "Requesting a certificate" not in elsewhere.output + nowhere.output
    assert vps.vps("ls", "/etc/letsencrypt/live").stdout.strip() == ""
    assert vps.vps("ls", "/srv/imgserv/bundle").stdout.strip() == ""


def test_it_changes_nothing_when_the_host_key_is_not_confirmed_or_the_password_is_wrong(
    camera_server, vps
):
    camera_server.prepare()
    manage(camera_server, ADD)
    camera_server.answers[0] = (camera_server.answers[0][0], "n")
    declined = manage(camera_server, SETUP.format(domain="localhost"))
    assert declined.code == 1 and "Not pinned: nothing was trusted" in declined.output
    assert "Password of" not in declined.output
    camera_server.answers[0] = (camera_server.answers[0][0], "y")
    camera_server.answers[1] = (camera_server.answers[1][0], "not-the-password")
    refused = manage(camera_server, SETUP.format(domain="localhost"))
    assert refused.code == 1 and "The server refused the login password." in refused.output
    assert vps.vps("id", "imgserv-publish").returncode != 0
    assert "not-the-password" not in refused.output


def test_update_vps_brings_the_gate_and_site_up_to_date_and_republishes(camera_server, vps):
    camera_server.prepare()
    manage(camera_server, ADD)
    assert manage(camera_server, SETUP.format(domain="localhost")).code == 0
    # An older imgserv's gate and site on the VPS.
    vps.vps("sh", "-c", "echo '#!/bin/sh' > /usr/local/lib/imgserv/publish-gate")
    site = "/etc/nginx/sites-available/imgserv-bundle"
    vps.vps("sed", "-i", "s/max-age=600/max-age=5/", site)
    releases = vps.vps("ls", "/srv/imgserv/bundle/releases").stdout.split()

    done = manage(camera_server, "publish update-vps vps --login root@localhost")
    assert done.code == 0, done.output
    assert "Pin it" not in done.output  # the pinned key is used as it is
    assert (
        vps.read("/usr/local/lib/imgserv/publish-gate")
        == (ROOT / "deploy" / "publish-gate.py").read_text()
    )
    assert "max-age=600" in vps.read(site) and "max-age=5;" not in vps.read(site)
    assert len(vps.vps("ls", "/srv/imgserv/bundle/releases").stdout.split()) == len(releases) + 1
    assert "https://localhost/status.json answers over HTTPS: 1 camera" in done.output
