"""agora.postgresql: a persistent connection is health-checked at most once a second, and a
connection the database dropped while it sat idle is still replaced before a request uses it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.db import OperationalError, connection

from agora.postgresql.base import HEALTH_CHECK_FRESH_SECONDS, DatabaseWrapper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def persistent() -> Iterator[tuple[DatabaseWrapper, list[int]]]:
    """A connection to the test database kept between "requests" (as in production: 60 s),
    counting the health-check round trips it makes."""
    settings_dict = {**connection.settings_dict, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    wrapper = DatabaseWrapper(settings_dict, alias="health-check-test")
    checks: list[int] = []
    real_is_usable = wrapper.is_usable

    def counted() -> bool:
        checks.append(1)
        return real_is_usable()

    wrapper.is_usable = counted  # type: ignore[method-assign]
    yield wrapper, checks
    wrapper.close()


def request(wrapper: DatabaseWrapper) -> int:
    """What one database_sync_to_async call does: close old connections, then query."""
    wrapper.close_if_unusable_or_obsolete()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_back_to_back_requests_skip_the_round_trip(persistent: tuple[DatabaseWrapper, list[int]]) -> None:
    wrapper, checks = persistent
    pids = {request(wrapper) for _ in range(20)}
    assert len(pids) == 1  # one connection, kept
    assert checks == []  # opened just now: trusted


def test_an_idle_connection_is_checked_again(persistent: tuple[DatabaseWrapper, list[int]]) -> None:
    wrapper, checks = persistent
    request(wrapper)
    wrapper.checked_at -= HEALTH_CHECK_FRESH_SECONDS + 0.1  # as if idle for longer than the window
    request(wrapper)
    assert checks == [1]
    request(wrapper)  # checked just now
    assert checks == [1]


def terminate(pid: int) -> None:
    """The database ends that session (a restart, an administrator), and it is gone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


def test_a_connection_dropped_while_idle_is_replaced_before_use(persistent: tuple[DatabaseWrapper, list[int]]) -> None:
    wrapper, checks = persistent
    first = request(wrapper)
    terminate(first)
    wrapper.checked_at -= HEALTH_CHECK_FRESH_SECONDS + 0.1
    second = request(wrapper)  # no error reaches the request
    assert checks == [1]
    assert second != first


def test_a_connection_dropped_within_the_second_fails_one_call_then_is_replaced(persistent: tuple[DatabaseWrapper, list[int]]) -> None:
    """What the once-a-second check gives up (docs/decisions.md): one failed call, not more."""
    wrapper, _checks = persistent
    first = request(wrapper)
    terminate(first)
    with pytest.raises(OperationalError):
        request(wrapper)  # trusted as fresh: the call meets the dead connection
    second = request(wrapper)
    assert second != first
