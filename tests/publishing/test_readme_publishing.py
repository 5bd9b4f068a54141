"""The README's "Publishing a public page", run as written: every line of its fenced shell
blocks, in order, each through bash on the camera server (this checkout, with its own data
folder), against the throwaway VPS of tests/publishing/vps_rig.py.

Only the lines marked `# ← yours` change: they set SERVER, DOMAIN and EMAIL, which the test
sets to the rig's (`localhost`: on the rig's network that is the VPS). The prompts are answered
as an operator would: "y" after comparing the host key, and the VPS's one-time password.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.publishing import vps_rig

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Publishing a public page"
PLACEHOLDER = re.compile(r"^(?P<name>[A-Z_]+)=(?P<value>\S+)\s+# ← yours")
RIG_VALUES = {"SERVER": "localhost", "DOMAIN": "localhost", "EMAIL": "ops@example.org"}

vps = vps_rig.vps
camera_server = vps_rig.camera_server


def section(readme: str) -> str:
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    return readme[start : end if end != -1 else None]


def shell_blocks(text: str) -> list[list[str]]:
    """Each ```sh block as its commands: continuation lines joined, comments dropped."""
    blocks = []
    for body in re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S):
        commands, pending = [], ""
        for line in body.splitlines():
            pending += line
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            if pending.strip() and not pending.lstrip().startswith("#"):
                commands.append(pending.strip())
            pending = ""
        blocks.append(commands)
    return blocks


def test_the_sections_blocks_are_parsed_with_their_placeholders():
    blocks = shell_blocks(section((ROOT / "README.md").read_text()))
    commands = [command for block in blocks for command in block]
    marked = [m["name"] for m in map(PLACEHOLDER.match, commands) if m]
    assert marked == ["SERVER", "DOMAIN", "EMAIL"]
    # The order that works: the target first, then its key, then the server's setup.
    order = [c.split("manage.py publish ")[1].split()[0] for c in commands if "publish " in c]
    assert order.index("add") < order.index("keygen") < order.index("setup-vps")
    assert "--identity data/publishing/vps_ed25519" not in " ".join(commands)


def test_the_readme_publishing_steps_work_as_written(camera_server, vps):
    gif = camera_server.prepare()
    blocks = shell_blocks(section((ROOT / "README.md").read_text()))
    variables: dict[str, str] = {}
    ran = []
    for command in [command for block in blocks for command in block]:
        marked = PLACEHOLDER.match(command)
        if marked:
            variables[marked["name"]] = RIG_VALUES[marked["name"]]
            continue
        done = camera_server.shell(command, env=variables)
        assert done.code == 0, f"README step failed: {command}\n{done.output}"
        ran.append((command, done.output))

    outputs = dict(ran)
    curl = next(out for command, out in ran if command.startswith("curl "))
    assert json.loads(curl)["cameras"][0]["slug"] == "main-street"
    listed = next(out for command, out in ran if command.endswith("publish list"))
    assert "vps  rsync  imgserv-publish@localhost:/srv/imgserv/bundle (port 22)  enabled" in listed
    assert "last success: never" not in listed and "last error" not in listed
    assert any("publish update-vps" in command for command in outputs)
    # The local folder target sits in the data folder, where the installed worker may write.
    served = camera_server.data_dir / "public" / "current" / "main-street" / "latest.gif"
    assert served.read_bytes() == gif.read_bytes()
    published = vps.vps("ls", "/srv/imgserv/bundle/releases").stdout.split()
    assert len(published) == 2  # setup-vps's publish, then update-vps's
