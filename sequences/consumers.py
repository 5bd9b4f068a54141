"""The viewer's websocket: `ws/live/` (all cameras) and `ws/live/<slug>/` (one camera).

Read-only and public, like the viewer page; the origin check in `asgi.py` keeps other sites'
pages out. Handlers are named after the message types documented in `sequences.live`.
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from sequences import live


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"].get("slug")
        self.group = live.camera_group(slug) if slug else live.ALL_CAMERAS
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        live.DatabaseWatcher.ensure_running()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Viewers only listen; anything they send is ignored."""

    async def sequence_updated(self, event: live.SequenceUpdated) -> None:
        await self.send_json(event)

    async def camera_health(self, event: live.CameraHealth) -> None:
        await self.send_json(event)

    async def condition_updated(self, event: live.ConditionUpdated) -> None:
        await self.send_json(event)
