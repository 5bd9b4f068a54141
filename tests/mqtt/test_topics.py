"""Topics and payloads, and the Home Assistant discovery configs that describe them: pure
functions of a camera's state."""

from __future__ import annotations

import json

from mqtt.topics import (
    NO_VALUE,
    CameraState,
    Topics,
    discovery_messages,
    frame_messages,
    node_key,
    removal_messages,
    state_messages,
)

TOPICS = Topics("imgserv", "homeassistant")
NODE = "box.lan:4242"
STATE = CameraState(
    slug="main-street",
    name="Main Street",
    model="Demo (generated road scene) camera",
    road="snow",
    road_attributes={"reason": "Snow covers 60 % of the road."},
    temperature=-2.54,
    temperature_unit="°C",
    alerts=[{"kind": "snow", "text": "Snow 2–4 cm from Tue 03:00"}],
    health="offline",
    health_attributes={"last_error": "Host unreachable."},
)


def by_topic(messages):
    return {m.topic: m for m in messages}


def test_it_builds_one_retained_discovery_config_per_entity():
    configs = by_topic(discovery_messages(STATE, TOPICS, NODE))
    assert sorted(configs) == [
        "homeassistant/image/imgserv_main-street/frame/config",
        "homeassistant/sensor/imgserv_main-street/alerts/config",
        "homeassistant/sensor/imgserv_main-street/health/config",
        "homeassistant/sensor/imgserv_main-street/road/config",
        "homeassistant/sensor/imgserv_main-street/temperature/config",
    ]
    assert all(m.retain for m in configs.values())
    road = json.loads(configs["homeassistant/sensor/imgserv_main-street/road/config"].payload)
    assert road["unique_id"] == "imgserv_main-street_road"
    assert road["state_topic"] == "imgserv/main-street/road"
    assert road["json_attributes_topic"] == "imgserv/main-street/road/attributes"
    assert road["availability_topic"] == "imgserv/node/box-lan-4242/availability"
    assert road["device"]["identifiers"] == ["imgserv_main-street"]
    assert road["device"]["name"] == "Main Street"
    assert road["options"] == ["dry", "wet", "snow", "ice", "unknown"]
    temperature = json.loads(
        configs["homeassistant/sensor/imgserv_main-street/temperature/config"].payload
    )
    assert temperature["unit_of_measurement"] == "°C"
    assert temperature["device_class"] == "temperature"
    image = json.loads(configs["homeassistant/image/imgserv_main-street/frame/config"].payload)
    assert image["image_topic"] == "imgserv/main-street/frame"
    assert "state_topic" not in image
    assert image["content_type"] == "image/jpeg"
    health = json.loads(configs["homeassistant/sensor/imgserv_main-street/health/config"].payload)
    assert "late" in health["options"] and "offline" in health["options"]
    # One device: every entity names the same one.
    devices = {json.dumps(json.loads(m.payload)["device"]) for m in configs.values()}
    assert len(devices) == 1


def test_it_publishes_states_as_plain_values_with_json_attributes():
    states = {m.topic: m.payload for m in state_messages(STATE, TOPICS)}
    assert states["imgserv/main-street/road"] == b"snow"
    assert json.loads(states["imgserv/main-street/road/attributes"]) == {
        "reason": "Snow covers 60 % of the road."
    }
    assert states["imgserv/main-street/temperature"] == b"-2.5"
    assert states["imgserv/main-street/alerts"] == b"1"
    alerts = json.loads(states["imgserv/main-street/alerts/attributes"])
    assert alerts["alerts"][0]["text"] == "Snow 2–4 cm from Tue 03:00"
    assert states["imgserv/main-street/health"] == b"offline"


def test_it_publishes_an_unknown_road_and_temperature_as_home_assistant_reads_them():
    blank = CameraState(slug="x", name="X", model="")
    states = {m.topic: m.payload for m in state_messages(blank, TOPICS)}
    assert states["imgserv/x/road"] == b"unknown"
    assert states["imgserv/x/temperature"] == NO_VALUE.encode()
    assert states["imgserv/x/alerts"] == b"0"
    assert states["imgserv/x/health"] == b"unknown"


def test_it_publishes_the_frame_bytes_as_given():
    [image, attributes] = frame_messages(STATE, b"\xff\xd8jpeg", TOPICS)
    assert (image.topic, image.payload, image.retain) == (
        "imgserv/main-street/frame",
        b"\xff\xd8jpeg",
        True,
    )
    assert attributes.topic == "imgserv/main-street/frame/attributes"


def test_it_removes_a_deleted_cameras_entities_and_retained_states():
    removals = removal_messages("main-street", TOPICS)
    published = discovery_messages(STATE, TOPICS, NODE) + state_messages(STATE, TOPICS)
    published += frame_messages(STATE, b"jpeg", TOPICS)
    assert {m.topic for m in removals} == {m.topic for m in published}
    assert all(m.payload == b"" and m.retain for m in removals)


def test_it_makes_a_node_name_one_topic_level():
    assert node_key("box.lan:4242") == "box-lan-4242"
    assert "/" not in node_key("a/b#c+d") and "#" not in node_key("a/b#c+d")
