"""The environment of the real processes that integration tests start (manage.py, daphne,
qcluster), in either mode.

Embedded (the default): the child gets its own SQLite database under its data folder.

Scale-out (the test run has `DATABASE_URL` on PostgreSQL and `REDIS_URL`, as `make test` sets
for its second pass): the child gets a throwaway PostgreSQL database and a Redis database number
of its own, both removed afterwards. Tests of this run, of other people's runs on the same
machine, and pytest-django's own `test_<name>` database then never see each other's rows,
task queues or websocket groups, without any setting having to name them.

`python -m tests.processes DATABASE_URL REDIS_URL` prints why those services cannot be used,
exit 1, or nothing, exit 0: the Makefile's probe before the scale-out pass.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql

PROBE_TIMEOUT_S = 3
# Children must not reach real weather services; this closed port fails at once.
NO_WEATHER = "http://127.0.0.1:9"
# The key that marks a Redis database as taken by one test; it expires in case that test's
# process is killed before it can let go.
CLAIM_KEY = "imgserv:test-claim"
CLAIM_SECONDS = 3600


def scaleout_urls() -> tuple[str, str] | None:
    """The test run's PostgreSQL and Redis URLs when it runs in scale-out mode."""
    database = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("REDIS_URL", "")
    if database.startswith(("postgres://", "postgresql://")) and broker:
        return database, broker
    return None


def where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or ''}".rstrip(":")


def unreachable(database_url: str, redis_url: str) -> str | None:
    """Why the scale-out services cannot be used, in one line; None when both answer."""
    try:
        with psycopg.connect(
            admin_url(database_url), connect_timeout=PROBE_TIMEOUT_S, autocommit=True
        ) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"PostgreSQL at {where(database_url)} not reachable: {first}"
    try:
        redis.Redis.from_url(
            redis_url, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S
        ).ping()
    except redis.RedisError as exc:
        return f"Redis at {where(redis_url)} not reachable: {exc}"
    return None


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + path, parts.query, parts.fragment))


def admin_url(database_url: str) -> str:
    """The maintenance database: the run's own may not exist (pytest-django only creates
    `test_<name>`), and CREATE/DROP DATABASE cannot run while connected to the target."""
    return with_path(database_url.replace("postgres://", "postgresql://", 1), "postgres")


@contextlib.contextmanager
def throwaway_database(database_url: str) -> Iterator[str]:
    name = f"imgserv_it_{secrets.token_hex(6)}"
    admin = admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_path(database_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            # FORCE: a child process killed mid-query may still hold a session.
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def redis_db_number(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


@contextlib.contextmanager
def own_redis_database(redis_url: str) -> Iterator[str]:
    """A Redis database number nobody else holds: not the test run's own, not another test's.
    Claimed with SET NX so parallel runs on one Redis server each get a different one."""
    client = redis.Redis.from_url(redis_url)
    count = int(str(client.config_get("databases").get("databases", 16)))
    token = secrets.token_hex(8)
    for number in range(1, count):
        if number == redis_db_number(redis_url):
            continue
        candidate = redis.Redis.from_url(with_path(redis_url, str(number)))
        if candidate.set(CLAIM_KEY, token, nx=True, ex=CLAIM_SECONDS):
            break
    else:
        raise RuntimeError(f"every Redis database at {where(redis_url)} is claimed by a test")
    try:
        yield with_path(redis_url, str(number))
    finally:
        # Queues, channel groups and the claim go together.
        candidate.flushdb()


@contextlib.contextmanager
def process_env(data_dir: Path, **extra: str) -> Iterator[dict[str, str]]:
    """The environment for child processes of one test, in the test run's mode."""
    # Never the developer's .env (IMGSRV_ENV_FILE empty): a child sees only what the test sets.
    env = {**os.environ, "IMGSRV_DATA_DIR": str(data_dir), "IMGSRV_ENV_FILE": ""}
    env.update(NWS_API_URL=NO_WEATHER, OPEN_METEO_API_URL=NO_WEATHER, **extra)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    urls = scaleout_urls()
    if urls is None:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        yield env
        return
    database_url, redis_url = urls
    reason = unreachable(database_url, redis_url)
    if reason:
        pytest.skip(reason)
    with throwaway_database(database_url) as db, own_redis_database(redis_url) as broker:
        yield {**env, "DATABASE_URL": db, "REDIS_URL": broker}


@pytest.fixture
def child_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`process_env` for one test, with the test's tmp_path as the data folder."""
    with process_env(tmp_path) as env:
        yield env


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tests.processes DATABASE_URL REDIS_URL", file=sys.stderr)
        return 2
    reason = unreachable(*argv)
    if reason:
        print(reason)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
