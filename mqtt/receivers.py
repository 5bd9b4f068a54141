"""How MQTT hears of the other apps: each receiver only marks the camera in the running
service's bounded queue (mqtt.inbox), which never blocks and never raises, so a
broker that is down can never delay capture, analysis or a build. `frame_stored` and
`health_changed` come from the worker's capture service, in the process that runs the MQTT
service; readings and forecasts are saved by task processes, where no service runs: the
service's regular refresh picks those up."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from analytics.models import ConditionReading, ForecastSnapshot
from cameras.models import Camera, Frame
from cameras.signals import frame_stored, health_changed
from mqtt.inbox import notify


def on_frame(sender: type[Frame], frame: Frame, **kwargs: Any) -> None:
    notify(frame.camera_id)


def on_health(sender: type[Camera], camera: Camera, **kwargs: Any) -> None:
    notify(camera.pk)


def on_saved(
    sender: type[Any], instance: ConditionReading | ForecastSnapshot, **kwargs: Any
) -> None:
    if not kwargs.get("raw"):
        notify(instance.camera_id)


def connect() -> None:
    frame_stored.connect(on_frame, dispatch_uid="mqtt.frame")
    health_changed.connect(on_health, dispatch_uid="mqtt.health")
    post_save.connect(on_saved, sender=ConditionReading, dispatch_uid="mqtt.reading")
    post_save.connect(on_saved, sender=ForecastSnapshot, dispatch_uid="mqtt.forecast")
