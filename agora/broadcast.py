"""Announce changes to live clients, only after the change is committed.

Nothing else calls the channel layer to announce a change: a rolled-back write is
never announced (STYLE: events only after commit, only from services).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def broadcast_now(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # the write is committed; a failed announcement is resynced by clients
        log.exception("broadcast to %s failed", group)


def broadcast_on_commit(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` once the current transaction commits."""
    transaction.on_commit(lambda: broadcast_now(group, event))
