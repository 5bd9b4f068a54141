"""Topics and payloads: what imgserv publishes to MQTT, and the Home Assistant discovery
configs that describe it. Pure functions of a camera's state, no database and no network, so
they are tested alone.

Per camera (`<prefix>/<slug>/…`, all retained): `road`, `temperature`, `alerts` and
`health`, each with `…/attributes` (JSON), and `frame`, the JPEG of the newest stored frame
(masked: frames are stored masked). Per worker node: `<prefix>/node/<node>/availability`,
"online" or "offline" (its last will). One Home Assistant device per camera, one entity per
topic, discovered under `<discovery>/<component>/imgserv_<slug>/<object>/config`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from analytics.kinds import State
from cameras.models import Health

ONLINE, OFFLINE = "online", "offline"
# Home Assistant reads "None" as no value (unknown) for a sensor.
NO_VALUE = "None"
# Health as published: the camera's own health, or "late" when nothing captures it.
LATE = "late"
HEALTH_OPTIONS = [*Health.values, LATE]


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool = True


@dataclass(frozen=True)
class CameraState:
    """What is published for one camera, read from the database by `mqtt.state`."""

    slug: str
    name: str
    model: str
    road: str = State.UNKNOWN.value
    road_attributes: dict[str, Any] = field(default_factory=dict)
    temperature: float | None = None
    temperature_unit: str = "°C"
    temperature_attributes: dict[str, Any] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    health: str = Health.UNKNOWN.value
    health_attributes: dict[str, Any] = field(default_factory=dict)
    frame_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Entity:
    object_id: str
    component: str
    name: str
    config: dict[str, Any]


@dataclass(frozen=True)
class Topics:
    prefix: str
    discovery: str

    @classmethod
    def from_settings(cls) -> Topics:
        return cls(settings.MQTT_TOPIC_PREFIX, settings.MQTT_DISCOVERY_PREFIX)

    def availability(self, node: str) -> str:
        return f"{self.prefix}/node/{node_key(node)}/availability"

    def state(self, slug: str, object_id: str) -> str:
        return f"{self.prefix}/{slug}/{object_id}"

    def attributes(self, slug: str, object_id: str) -> str:
        return f"{self.prefix}/{slug}/{object_id}/attributes"

    def config(self, component: str, slug: str, object_id: str) -> str:
        return f"{self.discovery}/{component}/imgserv_{slug}/{object_id}/config"

    @property
    def birth(self) -> str:
        """Home Assistant's own status: "online" when it (re)starts."""
        return f"{self.discovery}/status"


def node_key(node: str) -> str:
    """A node name (host:pid) as one topic level."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", node).strip("-") or "node"


def entities(state: CameraState) -> list[Entity]:
    return [
        Entity(
            "road",
            "sensor",
            "Road state",
            {
                "device_class": "enum",
                "options": list(State.values),
                "icon": "mdi:road-variant",
            },
        ),
        Entity(
            "temperature",
            "sensor",
            "Temperature",
            {
                "device_class": "temperature",
                "state_class": "measurement",
                "unit_of_measurement": state.temperature_unit,
            },
        ),
        Entity(
            "alerts",
            "sensor",
            "Weather alerts",
            {"state_class": "measurement", "icon": "mdi:snowflake-alert"},
        ),
        Entity(
            "health",
            "sensor",
            "Camera health",
            {
                "device_class": "enum",
                "options": HEALTH_OPTIONS,
                "entity_category": "diagnostic",
            },
        ),
        Entity("frame", "image", "Latest frame", {"content_type": "image/jpeg"}),
    ]


def discovery_messages(state: CameraState, topics: Topics, node: str) -> list[Message]:
    """One retained config per entity; the device is the camera, available while the node
    that publishes it is."""
    device = {
        "identifiers": [f"imgserv_{state.slug}"],
        "name": state.name,
        "manufacturer": "imgserv",
        "model": state.model,
    }
    messages = []
    for entity in entities(state):
        state_key = "image_topic" if entity.component == "image" else "state_topic"
        config = {
            "name": entity.name,
            "unique_id": f"imgserv_{state.slug}_{entity.object_id}",
            state_key: topics.state(state.slug, entity.object_id),
            "json_attributes_topic": topics.attributes(state.slug, entity.object_id),
            "availability_topic": topics.availability(node),
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "device": device,
            "origin": {"name": "imgserv"},
            **entity.config,
        }
        topic = topics.config(entity.component, state.slug, entity.object_id)
        messages.append(Message(topic, dumps(config)))
    return messages


def removal_messages(slug: str, topics: Topics) -> list[Message]:
    """Empty retained messages for a deleted camera: its configs (Home Assistant removes its
    entities), states and attributes (the broker forgets its last picture)."""
    probe = CameraState(slug=slug, name=slug, model="")
    messages = []
    for e in entities(probe):
        messages.append(Message(topics.config(e.component, slug, e.object_id), b""))
        messages.append(Message(topics.state(slug, e.object_id), b""))
        messages.append(Message(topics.attributes(slug, e.object_id), b""))
    return messages


def state_messages(state: CameraState, topics: Topics) -> list[Message]:
    """The retained states and their attributes (the frame's bytes are `frame_message`)."""
    temperature = NO_VALUE if state.temperature is None else f"{state.temperature:.1f}"
    values = {
        "road": (state.road, state.road_attributes),
        "temperature": (temperature, state.temperature_attributes),
        "alerts": (str(len(state.alerts)), {"alerts": state.alerts}),
        "health": (state.health, state.health_attributes),
    }
    messages = []
    for object_id, (value, attributes) in values.items():
        messages.append(Message(topics.state(state.slug, object_id), value.encode()))
        messages.append(Message(topics.attributes(state.slug, object_id), dumps(attributes)))
    return messages


def frame_messages(state: CameraState, jpeg: bytes, topics: Topics) -> list[Message]:
    return [
        Message(topics.state(state.slug, "frame"), jpeg),
        Message(topics.attributes(state.slug, "frame"), dumps(state.frame_attributes)),
    ]


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
