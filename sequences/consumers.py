"""The viewer's websocket: `ws/live/` (all cameras) and `ws/live/<slug>/` (one camera).

Read-only and public, like the viewer page. `imgserv_site.security.websocket_refusal` decides
who may connect (other sites' pages may not; clients without an Origin header may), and
`imgserv_site.routing` refuses a path that is not one of these two at the handshake (403).
Handlers are named after the message types documented in `sequences.live`.

Close codes, after the socket was accepted:
- 4404: no camera has this slug. Reconnecting will not help; the viewer stops trying.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cameras.models import Camera
from sequences import live

UNKNOWN_CAMERA = 4404


@database_sync_to_async
def camera_exists(slug: str) -> bool:
    return Camera.objects.filter(slug=slug).exists()


class LiveConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"].get("slug")
        if slug and not await camera_exists(slug):
            # Accepted first so that the client sees the code; a refused handshake is a bare 403.
            await self.accept()
            await self.close(code=UNKNOWN_CAMERA)
            return
        self.group = live.camera_group(slug) if slug else live.ALL_CAMERAS
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        live.DatabaseWatcher.ensure_running()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """Viewers only listen. Whatever a client sends (JSON or not, text or binary) is
        ignored and the socket stays open: nothing it says can make the server fail."""

    async def sequence_updated(self, event: live.SequenceUpdated) -> None:
        await self.send_json(event)

    async def camera_health(self, event: live.CameraHealth) -> None:
        await self.send_json(event)

    async def condition_updated(self, event: live.ConditionUpdated) -> None:
        await self.send_json(event)
