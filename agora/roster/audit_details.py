"""How the security log names an event's details: each key a translated label, each known value
(a state, a role, yes/no) its translated word, so a Chinese page shows 原状态：草稿, not
``from_state: draft``. Apps add the values they own at ready time (``DETAIL_VALUES[key] = …``),
as they add their kinds to ``agora.roster.audit.KIND_LABELS``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agora.roster.models import Role, Tenure
from agora.roster.names import join_names

DETAIL_LABELS: dict[str, Any] = {
    "from_state": _("From"),
    "to_state": _("To"),
    "username": _("Login name"),
    "role": _("Role"),
    "locked": _("Locked"),
    "via": _("Through"),
    "resident": _("Resident"),
    "household": _("Household"),
    "before": _("Before"),
    "after": _("After"),
    "area": _("Floor area"),
    "owner": _("Owner"),
    "session_id": _("Session no."),
    "motion_id": _("Motion no."),
    "record_id": _("Minutes no."),
    "corrects_id": _("Corrects minutes no."),
    "content_hash": _("Seal (SHA-256)"),
    "decision_id": _("Decision no."),
    "vote_id": _("Ballot no."),
    "other_vote_id": _("Other ballot no."),
    "objection_id": _("Objection no."),
    "proxy_id": _("Proxy no."),
    "proxy_kind": _("Kind of proxy"),
    "holder": _("Proxy holder"),
    "holder_id": _("Proxy holder no."),
    "code_id": _("Ballot code no."),
    "codes": _("Ballot codes"),
    "unit": _("Voting unit"),
    "unit_key": _("Voting unit key"),
    "user_id": _("Person no."),
    "message_seq": _("Message no."),
    "reason": _("Reason"),
    "outcome": _("Outcome"),
    "by_timer": _("Closed when due"),
    "ballots": _("Ballots"),
    "winner": _("Winner"),
    "seed": _("Draw seed"),
    "public_value": _("Public value"),
    "assisted": _("Assisted"),
    "agrees": _("Agrees"),
    "held": _("Held"),
    "round": _("Round"),
    "to": _("To"),
    "shortened": _("Notice shortened"),
    "adjourned_at": _("Adjourned at"),
    "reading_as_first": _("First reading"),
    "reading_as_second": _("Second reading"),
    "tenure": _("Tenure"),
    "verified": _("Verified"),
}
DETAIL_VALUES: dict[str, dict[str, Any]] = {
    "role": dict(Role.choices),
    "tenure": dict(Tenure.choices),
    "via": {"admin": _("the admin"), "import_roster": _("the roster import"), "other": _("another way")},
    "locked": {"address": _("the address")},
    "outcome": {
        "passed": _("Passed"),
        "failed": _("Not passed"),
        "no_quorum": _("No quorum"),
        "tie": _("Tie"),
        "winner": pgettext_lazy("outcome", "Decided"),
    },
}
_ROSTER_VALUES = {"roster.tenure": dict(Tenure.choices)}


def detail_value(key: str, value: Any, *, kind: str = "", tags: Mapping[str, str] | None = None) -> str:
    """One detail's value in words: yes/no, a known state, role or tag by its label, else as recorded."""
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return join_names(detail_value(key, v, kind=kind, tags=tags) for v in value)
    if kind == "roster.tags" and key in ("before", "after"):
        return (tags or {}).get(str(value), str(value))
    words = DETAIL_VALUES.get(key) or (_ROSTER_VALUES.get(kind) if key in ("before", "after") else None) or {}
    return str(words.get(str(value), value))


def detail_rows(kind: str, detail: dict[str, Any], *, tags: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(label, value) per detail, in the current language; ``tags`` names tags by slug. A key
    that no app named keeps its name."""
    return [(str(DETAIL_LABELS.get(key, key)), detail_value(key, value, kind=kind, tags=tags)) for key, value in (detail or {}).items()]
