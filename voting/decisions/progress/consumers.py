"""``/ws/decisions/<id>/progress/``: the progress page's live connection. Admitted like the
session's (agora/infra/live_auth.py), only for a reader of the decision (voting/decisions/rules.py
``reads``); joins ``decision_group(id)`` and gets one frame at once, so nothing recorded between
the page and the connection is missed. Each frame is rendered for the connection's language, and
with the choices only when ``sees_counts`` allows (read again for each frame's state)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.template.loader import render_to_string
from django.utils import translation

from agora.infra.live_auth import scope_user
from sessions.consumers import language_from_scope
from voting.decisions.events import decision_group
from voting.decisions.progress.access import progress_admission
from voting.decisions.progress.announce import progress_event
from voting.decisions.progress.selectors import progress_context
from voting.decisions.rules import DecisionFacts, sees_counts
from voting.models import Decision

log = logging.getLogger(__name__)

CLOSE_REFUSED = 4403
TEMPLATE = "voting/decisions/progress/_progress.html"
# One rendering per (event, language, counts shown) in this process, however many pages are open.
_rendered: OrderedDict[tuple[str, str, bool], str] = OrderedDict()
RENDERED_MAX = 64


def progress_html(event: dict[str, Any], *, language: str, show_counts: bool) -> str:
    key = (event["key"], language, show_counts)
    html = _rendered.get(key)
    if html is None:
        with translation.override(language):
            html = render_to_string(TEMPLATE, progress_context(event["progress"], event["counts"] if show_counts else None))
        _rendered[key] = html
        while len(_rendered) > RENDERED_MAX:
            _rendered.popitem(last=False)
    return html


def progress_frame(event: dict[str, Any], *, facts: DecisionFacts, language: str) -> dict[str, Any]:
    progress = event["progress"]
    # The rule over the frame's own state: counts of an open decision only when it shows them.
    as_read = Decision(state=progress["state"], results_live=progress["results_live"])
    show = sees_counts(facts, as_read)
    return {
        "type": "progress",
        "decision_id": progress["decision_id"],
        "state": progress["state"],
        "read_at": progress["read_at"],
        "headcount": progress["headcount"],
        "area": progress["area"],
        "html": progress_html(event, language=language, show_counts=show),
    }


class DecisionProgressConsumer(AsyncJsonWebsocketConsumer):
    facts: DecisionFacts | None = None

    async def connect(self) -> None:
        self.decision_id = int(self.scope["url_route"]["kwargs"]["decision_id"])
        self.language = language_from_scope(self.scope)
        user = scope_user(self.scope)
        self.facts = await database_sync_to_async(progress_admission, thread_sensitive=False)(user=user, decision_id=self.decision_id)
        if self.facts is None:
            await self.close(code=CLOSE_REFUSED)
            return
        await self.channel_layer.group_add(decision_group(self.decision_id), self.channel_name)
        await self.accept()
        event = await database_sync_to_async(progress_event, thread_sensitive=False)(decision_id=self.decision_id)
        if event is not None:
            await self.progress_update(event)

    async def disconnect(self, code: int) -> None:
        if self.facts is None:
            return
        try:
            await self.channel_layer.group_discard(decision_group(self.decision_id), self.channel_name)
        except Exception:  # the layer is down: the membership goes with the channel
            log.warning("progress page could not leave its group", exc_info=True)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if content == {"type": "ping"}:
            await self.send_json({"type": "pong"})

    async def progress_update(self, event: dict[str, Any]) -> None:
        assert self.facts is not None
        await self.send_json(progress_frame(event, facts=self.facts, language=self.language))
