"""The PostgreSQL pool from settings (docs/deployment.md, "Database connections"): bounded, and a
connection the database dropped while it sat in the pool is replaced before anyone uses it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection

from agora.infra.postgresql import base as pool_backend
from agora.infra.postgresql.base import DatabaseWrapper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_settings_give_each_process_a_bounded_checked_pool() -> None:
    pool = connection.settings_dict["OPTIONS"]["pool"]
    assert connection.settings_dict["CONN_MAX_AGE"] == 0  # nothing kept per thread
    assert 1 <= pool["min_size"] <= pool["max_size"] <= 20
    assert connection.settings_dict["ENGINE"] == "agora.infra.postgresql"  # it checks each lend
    assert connection.settings_dict["OPTIONS"]["application_name"] == "agora"


@pytest.fixture
def one_connection_pool() -> Iterator[DatabaseWrapper]:
    """The settings' pool, with room for one connection, so the next lend must be that one."""
    options = connection.settings_dict["OPTIONS"]
    settings_dict = {**connection.settings_dict, "OPTIONS": {**options, "pool": {**options["pool"], "min_size": 1, "max_size": 1}}}
    wrapper = DatabaseWrapper(settings_dict, alias="pool-test")
    try:
        yield wrapper
    finally:
        wrapper.close()
        wrapper.close_pool()


def request(wrapper: DatabaseWrapper) -> int:
    """What one page request or live call does: borrow, query, give back."""
    wrapper.close_if_unusable_or_obsolete()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    wrapper.close_if_unusable_or_obsolete()
    return pid


def terminate(pid: int) -> None:
    """The database ends that session (a restart, an administrator), and it is gone."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres", dbname="postgres", autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.05)


def test_the_connection_goes_back_to_the_pool_and_is_reused(one_connection_pool: DatabaseWrapper) -> None:
    pids = {request(one_connection_pool) for _ in range(20)}
    assert len(pids) == 1
    assert one_connection_pool.connection is None  # given back between requests


def test_a_connection_dropped_in_the_pool_is_replaced_before_use(
    one_connection_pool: DatabaseWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lent again at once (no query check): the poll of its socket sees what the database sent."""
    monkeypatch.setattr(pool_backend, "RECHECK_SECONDS", 3600.0)
    first = request(one_connection_pool)
    terminate(first)
    second = request(one_connection_pool)  # no error reaches the request
    assert second != first


def test_a_connection_gone_silently_is_caught_by_the_query_check_after_a_quiet_second(
    one_connection_pool: DatabaseWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer that vanished without closing leaves the socket quiet: the empty query finds it."""
    first = request(one_connection_pool)
    terminate(first)
    monkeypatch.setattr(pool_backend, "_nothing_waiting", lambda conn: True)  # the poll sees nothing
    monkeypatch.setattr(pool_backend, "RECHECK_SECONDS", 0.0)  # as if idle for longer than that
    second = request(one_connection_pool)
    assert second != first
