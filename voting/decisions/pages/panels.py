"""The meeting room's panel "Owners' decisions being voted on" (registered from
``VotingConfig.ready`` into sessions/panels.py): a live session linked to an open decision shows
the decision's matters and the owner's ballot form, or when and how their unit voted. A ballot
cast from it is recorded in the room (``Channel.IN_PERSON``, voting/decisions/pages/views.py)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from agora.infra import clock
from sessions.models import SessionState
from voting.decisions.ballots import period_refusal
from voting.decisions.pages import selectors
from voting.models import Decision, DecisionState
from voting.units import area_refusal, needs_area, unit_of_user

if TYPE_CHECKING:
    from sessions.panels import Viewer


def decisions_panel(viewer: Viewer) -> dict[str, Any] | None:
    session = viewer.session
    if session.state != SessionState.LIVE:
        return None
    now = clock.now()
    decisions = list(
        Decision.objects.filter(sessions=session, state=DecisionState.OPEN, opens_at__lte=now, closes_at__gt=now).order_by("closes_at")
    )
    if not decisions:
        return None
    user = viewer.user
    items = []
    for decision in decisions:
        _matters, _options, shown = selectors.ballot_matters(decision)
        unit, reason = unit_of_user(decision, user.pk) if user.is_authenticated else (None, "")
        refusal = str(reason) if reason else ""
        vote = selectors.vote_of_unit(decision, unit) if unit is not None else None
        if unit is not None and not refusal:
            if not unit.has_area and needs_area(decision):
                refusal = str(area_refusal(unit))
            elif (late := period_refusal(decision, at=now)) is not None:
                refusal = str(late)
        items.append(
            {
                "decision": decision,
                "state_line": selectors.state_line(decision),
                "rows": selectors.ballot_rows(shown),
                "unit": unit,
                "voted": selectors.voted_sentence(vote) if vote is not None else "",
                "refusal": refusal,
                "key": secrets.token_urlsafe(16),
                "suffix": f"-room{decision.pk}",
            }
        )
    return {"decision_items": items}
