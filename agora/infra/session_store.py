"""The session engine: Django's database sessions, with the session row read by a plain statement.

Every page view and every live connect reads one session row. ``Session.objects.get(...)``
costs ~0.4 ms of CPU here, most of it the ORM building the query; the same read through a
cursor ~0.14 ms (docs/performance.md, "Live sessions"). Everything else — creating, saving,
cycling, flushing, expiry — is Django's ``db.SessionStore``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any | None:
        """The session row if it exists and has not expired (only its data is loaded)."""
        model = self.model
        if self.session_key is None:
            self._session_key = None
            return None
        alias = router.db_for_read(model)
        ops = connections[alias].ops
        table = ops.quote_name(model._meta.db_table)
        sql = f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s"  # noqa: S608 (model table)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [self.session_key, ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
