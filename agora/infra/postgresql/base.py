"""Django's PostgreSQL backend; a pooled connection is checked when lent without a round trip
while it is in use.

psycopg's pool (Django's ``OPTIONS["pool"]``) can check every connection it lends with an
empty query. That is one more round trip to the database on every page request and every live
``database_sync_to_async`` call: during a 2,000-resident connect storm ~1.6 ms of a ~9 ms call and
~65 µs of its CPU, ~18 % of the storm (docs/performance.md, "Database connections"). Here a
connection lent again within ``RECHECK_SECONDS`` of its previous lend is checked by one ``poll()``
of its socket instead (under a microsecond): a connection the database ended (a restart,
``pg_terminate_backend``, an idle timeout) has the server's error and the end of the stream
waiting there. A connection idle longer, or with anything waiting, gets psycopg's check (the
empty query). One that fails is given back, the pool closes and replaces it, and the next one is
tried, so a restart still never reaches a request (``tests/agora/test_db_pool.py``).

What the poll cannot see is a peer that vanished without closing (a cable, a partition): a
connection in use notices that at its next query either way; the empty query on a connection
idle for over a second catches the rest before they are lent.
"""

from __future__ import annotations

import select
import time
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

# A connection lent again this soon after its previous lend is checked by a poll, not a query.
RECHECK_SECONDS = 1.0
_LENT_AT = "_agora_lent_at"  # set on the psycopg connection at each lend


def _nothing_waiting(conn: psycopg.Connection[Any]) -> bool:
    """The socket of an idle connection has nothing to read: no error, no end of stream."""
    try:
        fd = conn.pgconn.socket  # raises once the connection is known to be lost
    except psycopg.Error:
        return False
    poller = select.poll()  # not select(): a server with thousands of sockets has fds over 1024
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


def lend_ready(conn: psycopg.Connection[Any]) -> bool:
    """May this connection, just taken from the pool, be lent? Checks it, and notes the lend."""
    now = time.monotonic()
    previous = getattr(conn, _LENT_AT, None)
    setattr(conn, _LENT_AT, now)
    if previous is not None and now - previous < RECHECK_SECONDS and _nothing_waiting(conn):
        return True
    try:
        ConnectionPool.check_connection(conn)
    except psycopg.Error:
        return False
    return True


class DatabaseWrapper(base.DatabaseWrapper):
    """The pool is built with no check of its own (``CONN_HEALTH_CHECKS`` off, agora/settings.py);
    this backend checks each lend with ``lend_ready``."""

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        pool = self.pool
        if pool is None:
            return super().get_new_connection(conn_params)
        # Every connection in the pool may be dead after a restart: try each once, then one new.
        for _attempt in range(pool.max_size + 1):
            connection = super().get_new_connection(conn_params)
            if lend_ready(connection):
                return connection
            pool.putconn(connection)  # lost: the pool closes it and opens a replacement
        raise psycopg.OperationalError("no usable connection in the pool")
