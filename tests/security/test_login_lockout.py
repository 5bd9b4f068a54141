"""Admin login throttling: LOGIN_FAILURE_LIMIT failures for one user name from one client lock
that pair out for LOGIN_LOCKOUT_MINUTES."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model

LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """Hundreds of logins: the real hasher's cost is not what these tests are about."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("op", password="right-password", is_staff=True)


def login(client, password: str, username: str = "op", address: str = "127.0.0.1") -> bool:
    """True when the login worked (the admin redirects); False when the form came back."""
    response = client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )  # fmt: skip
    client.logout()
    return response.status_code == 302


def fail(client, times: int, **kwargs: str) -> None:
    for _ in range(times):
        assert not login(client, "wrong", **kwargs)


def test_it_locks_out_after_five_failures_even_with_the_right_password(client, staff):
    fail(client, 5)
    assert not login(client, "right-password")


def test_it_still_lets_in_after_four_failures(client, staff):
    fail(client, 4)
    assert login(client, "right-password")


def test_it_forgets_failures_after_a_successful_login(client, staff):
    fail(client, 4)
    assert login(client, "right-password")
    fail(client, 4)
    assert login(client, "right-password")


def test_it_locks_only_that_user_name_from_that_address(client, staff):
    fail(client, 5)
    assert login(client, "right-password", address="192.0.2.9")
    get_user_model().objects.create_user("other", password="other-password", is_staff=True)
    assert login(client, "other-password", username="other")


def test_it_unlocks_after_fifteen_minutes(client, staff):
    with time_machine.travel(dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC), tick=False) as t:
        fail(client, 5)
        t.shift(dt.timedelta(minutes=14))
        assert not login(client, "right-password")
        t.shift(dt.timedelta(minutes=2))
        assert login(client, "right-password")


def test_it_follows_the_configured_limit(client, staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    fail(client, 2)
    assert not login(client, "right-password")


def test_it_logs_the_lockout_without_the_password(client, staff, caplog):
    fail(client, 5)
    login(client, "right-password")
    assert "Login locked" in caplog.text and "Login refused" in caplog.text
    assert "right-password" not in caplog.text and "wrong" not in caplog.text


def addresses(count: int) -> list[str]:
    return [f"192.0.2.{n}" for n in range(1, count + 1)]


def test_it_locks_a_user_name_guessed_from_many_addresses(client, staff, settings):
    """The fault: 50 guesses from 10 addresses all went through, 5 per address. Now the user
    name is locked after LOGIN_USER_FAILURE_LIMIT (20) failures from all of them together."""
    assert settings.LOGIN_USER_FAILURE_LIMIT == 20
    for address in addresses(10):
        fail(client, 2, address=address)
    # Each address stayed under its own limit (2 of 5): only the user-wide count refuses.
    assert not login(client, "right-password", address="198.51.100.7")


def test_it_still_lets_a_user_name_in_below_the_user_wide_limit(client, staff):
    for address in addresses(19):
        fail(client, 1, address=address)
    assert login(client, "right-password", address="198.51.100.7")


def test_the_user_wide_lockout_spares_an_address_that_logged_in_before(client, staff):
    """A guesser cannot lock the operator out of their own machine."""
    assert login(client, "right-password", address="203.0.113.5")
    for address in addresses(10):
        fail(client, 2, address=address)
    assert not login(client, "right-password", address="198.51.100.7")
    assert login(client, "right-password", address="203.0.113.5")


def test_the_user_wide_lockout_ends_after_the_lockout_time(client, staff):
    with time_machine.travel(dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC), tick=False) as t:
        for address in addresses(10):
            fail(client, 2, address=address)
        t.shift(dt.timedelta(minutes=14))
        assert not login(client, "right-password", address="198.51.100.7")
        t.shift(dt.timedelta(minutes=2))
        assert login(client, "right-password", address="198.51.100.7")


def test_the_user_wide_lockout_is_per_user_name(client, staff):
    get_user_model().objects.create_user("other", password="other-password", is_staff=True)
    for address in addresses(10):
        fail(client, 2, address=address)
    assert login(client, "other-password", username="other", address="198.51.100.7")


def test_it_logs_the_user_wide_lockout_without_the_name_or_password(client, staff, caplog):
    for address in addresses(10):
        fail(client, 2, address=address)
    login(client, "right-password", address="198.51.100.7")
    assert "from all addresses" in caplog.text and "many addresses" in caplog.text
    assert "right-password" not in caplog.text and "'op'" not in caplog.text
