"""channels_redis spans processes: one build, announced by the builder's own process, reaches
viewers connected to two separate daphne processes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.typing import Origin

from tests.scaleout.conftest import Site

pytestmark = pytest.mark.integration

IDLE_S = 7


async def next_update(socket_: websockets.ClientConnection) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(socket_.recv(), timeout=30))
        if message["type"] == "sequence.updated":
            return message


async def build_while_listening(site: Site, servers: list[str], slug: str) -> list[dict]:
    sockets = [
        await websockets.connect(base.replace("http", "ws") + "/ws/live/", origin=Origin(base))
        for base in servers
    ]
    try:
        # Viewers sit idle between builds: longer than redis-py's default 5 s read timeout,
        # which must not end the layer's blocking receive (and with it the socket).
        await asyncio.sleep(IDLE_S)
        # The socket is accepted only after the consumer joined its group, so the build
        # (its own process, no daphne in it) cannot announce before both listen.
        await asyncio.to_thread(site.manage, "sequence", "build", slug)
        return list(await asyncio.gather(*(next_update(s) for s in sockets)))
    finally:
        for socket_ in sockets:
            await socket_.close()


def test_it_delivers_one_build_to_viewers_on_two_daphne_processes(site: Site):
    camera = site.seed_camera("fanout")
    servers = [site.daphne(), site.daphne()]

    messages = asyncio.run(build_while_listening(site, servers, camera["slug"]))

    [(sequence_id,)] = site.sql(
        "SELECT id FROM sequences_sequence WHERE camera_id = %s", camera["id"]
    )
    for message in messages:
        assert message["camera"] == "fanout"
        assert message["sequence_id"] == sequence_id
        assert message["frame_count"] == 5
