from __future__ import annotations

from io import StringIO

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command


def test_it_creates_an_admin_and_prints_its_password_once(db):
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    password = out.getvalue().split("password: ")[1].split()[0]
    assert authenticate(username="admin", password=password) is not None

    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert password not in again.getvalue()
    assert User.objects.filter(is_superuser=True).count() == 1
