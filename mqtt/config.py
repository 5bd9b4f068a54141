"""The broker address, from MQTT_URL: mqtt://user:password@host:1883 or mqtts://… for TLS.

Parsed here, not in settings.py, so that a malformed address never stops the site: the worker
logs it and runs without MQTT, and `doctor` reports it in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

SCHEMES = {"mqtt": (1883, False), "mqtts": (8883, True)}


class MqttConfigError(ValueError):
    """MQTT_URL cannot be used; the message says why, without the password."""


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str = ""
    password: str = ""

    @property
    def display(self) -> str:
        """The address as shown to people: never the password."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}:***@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_url(url: str) -> Broker:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"“{parts.scheme}”" if parts.scheme else "none"
        raise MqttConfigError(
            f"MQTT_URL: the scheme is {shown}; use mqtt://host:1883 or mqtts://host:8883."
        )
    try:
        port = parts.port
    except ValueError:
        raise MqttConfigError(
            "MQTT_URL: the port is not a number from 1 to 65535, e.g. mqtt://host:1883."
        ) from None
    if not parts.hostname:
        raise MqttConfigError("MQTT_URL: no host, e.g. mqtt://broker.lan:1883.")
    if port == 0:
        raise MqttConfigError("MQTT_URL: port 0 is not a port, e.g. mqtt://host:1883.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise MqttConfigError("MQTT_URL: give only the broker, e.g. mqtt://user:pw@host:1883.")
    default_port, tls = SCHEMES[scheme]
    return Broker(
        host=parts.hostname,
        port=port or default_port,
        tls=tls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def configured_broker() -> Broker | None:
    """The broker to publish to; None when MQTT_URL is empty (MQTT is off). Raises
    MqttConfigError when it is malformed."""
    url = settings.MQTT_URL
    if not url.strip():
        return None
    broker = parse_url(url)
    for name in ("MQTT_TOPIC_PREFIX", "MQTT_DISCOVERY_PREFIX"):
        value = getattr(settings, name)
        if not value or any(c in value for c in "#+") or value.startswith("/"):
            raise MqttConfigError(
                f"{name}: “{value}” is not a topic prefix: no wildcard (# +), no leading /."
            )
    return broker
