"""The viewer's websocket: `ws/live/` (all cameras) and `ws/live/<slug>/` (one camera)."""

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

    async def sequence_updated(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
