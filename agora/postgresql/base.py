"""Django's PostgreSQL backend with a cheaper health check for persistent connections.

With ``CONN_HEALTH_CHECKS`` Django checks a reused connection (``SELECT 1``, one round trip)
at the start of every "request". Channels closes old connections around every
``database_sync_to_async`` call, so each live connect, post and ballot paid that round trip:
~86 µs of CPU and ~150 µs of wall time per call (docs/performance.md, "Vote burst").

Here a connection that was opened or checked less than ``HEALTH_CHECK_FRESH_SECONDS`` ago,
and that psycopg has not seen break, is trusted without the round trip. A connection idle
for longer is checked as before, so a database restart during a quiet time is still caught
before a request uses a dead connection. After a restart within the trusted second, the next
call on that connection fails once (the client retries; a ballot retried with its key is
safe), and the connection, now marked broken, is replaced (docs/decisions.md).
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

HEALTH_CHECK_FRESH_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    checked_at = 0.0  # time.monotonic() when the connection was opened or last found usable

    def connect(self) -> None:
        super().connect()
        self.checked_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        connection = self.connection
        if (
            connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and not connection.broken
            and time.monotonic() - self.checked_at < HEALTH_CHECK_FRESH_SECONDS
        ):
            self.health_check_done = True
            return
        checking = connection is not None and self.health_check_enabled and not self.health_check_done
        super().close_if_health_check_failed()
        if checking and self.connection is not None:
            self.checked_at = time.monotonic()
