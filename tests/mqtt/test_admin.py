"""admin → MQTT connections: each node's link and its last error, read only."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mqtt.models import BrokerConnection, LinkState

URL = "/admin/mqtt/brokerconnection/"


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("ops", "ops@example.org", "pw-123456789")
    client.force_login(user)
    return client


def test_it_lists_each_nodes_link_with_its_last_error(staff_client):
    now = timezone.now()
    BrokerConnection.objects.create(
        node="box:4242",
        broker="mqtt://ha:***@broker.lan:1883",
        state=LinkState.DISCONNECTED,
        since=now,
        last_error="Could not connect to broker.lan:1883; retrying.",
        last_error_at=now,
        dropped=3,
        updated_at=now,
    )
    page = staff_client.get(URL).content.decode()
    assert "box:4242" in page
    assert "Disconnected, reconnecting" in page
    assert "Could not connect to broker.lan:1883; retrying." in page
    assert "mqtt://ha:***@broker.lan:1883" in page


def test_it_offers_no_add_or_change(staff_client):
    now = timezone.now()
    row = BrokerConnection.objects.create(
        node="box:1", broker="mqtt://b:1883", state=LinkState.CONNECTED, since=now, updated_at=now
    )
    assert staff_client.get(URL + "add/").status_code == 403
    change = staff_client.post(URL + f"{row.pk}/change/", {"state": LinkState.STOPPED})
    assert change.status_code == 403
    row.refresh_from_db()
    assert row.state == LinkState.CONNECTED
