"""What the minutes need from voting: motions with their tallies, resolutions, online voters.

The one place that reads voting's data for the minutes. Everything returned is plain,
JSON-safe and float-free (the canonical JSON has one spelling per number).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

from agora.infra.isotime import iso_utc
from sessions.models import TopicSession
from voting.choices import option_label as option_label
from voting.decisions.pages.selectors import archive_decisions  # the exports name options as the ballot does
from voting.models import (
    Base,
    Channel,
    Motion,
    MotionKind,
    MotionState,
    Participation,
    Threshold,
)

# Result fields left out of the seal: display helpers (and floats), and who voted what on
# an open ballot. Minutes are read by every member (public ones by anyone) and show
# residents by building only; voters' names stay on the voting results page, for members.
_DROP = {"bar", "voters"}


def _exact(value: Any) -> Any:
    """Resolution data made canonical-safe: floats become strings, display helpers go."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items() if k not in _DROP}
    if isinstance(value, (list, tuple)):
        return [_exact(v) for v in value]
    return value


def sealable(value: Any) -> Any:
    """Voting data as the minutes may seal it (also for a correction copying an older record)."""
    return _exact(value)


def online_voter_ids(*, session: TopicSession) -> set[int]:
    """People who cast an online ballot ("who voted" is recorded even for secret ballots)."""
    return set(
        Participation.objects.filter(motion__session=session, channel=Channel.ONLINE, voter__isnull=False)
        .values_list("voter_id", flat=True)
        .distinct()
    )


def _summary(motion: Motion, data: dict[str, Any]) -> str:
    """The rule and the participation in words, frozen in Chinese (the community's language)."""
    with translation.override("zh-hans"):
        parts = [str(MotionKind(motion.kind).label)]
        if motion.kind == MotionKind.APPROVE_REJECT:
            parts.append(f"{Base(motion.base).label} {Threshold(motion.threshold).label}")
        if motion.quorum is not None:
            parts.append(f"quorum {motion.quorum_text}")
        p = data.get("participation") or {}
        eligible = (data.get("eligible") or {}).get("weight")
        if p:
            parts.append(f"{p.get('total', 0)}/{eligible if eligible is not None else '?'} ({p.get('rate', '')}%)")
        return " · ".join(parts)


def session_votes(*, session: TopicSession) -> dict[str, list[dict[str, Any]]]:
    """Motions that were put to the vote (drafts are not), with tallies; and the resolutions."""
    motions: list[dict[str, Any]] = []
    resolutions: list[dict[str, Any]] = []
    qs = (
        Motion.objects.filter(session=session, opened_at__isnull=False)
        .select_related("resolution")
        .prefetch_related("options")
        .order_by("opened_at", "pk")
    )
    for motion in qs:
        resolution = getattr(motion, "resolution", None) if motion.state == MotionState.CLOSED else None
        data = _exact(resolution.data) if resolution is not None else {}
        by_id = {o["id"]: o for o in data.get("options", [])}
        options = [
            {
                "label": o.label,
                "code": o.code,
                "online": int(by_id.get(o.pk, {}).get("online", 0)),
                "in_person": int(by_id.get(o.pk, {}).get("in_person", 0)),
                "total": int(by_id.get(o.pk, {}).get("total", 0)),
            }
            for o in motion.options.all()
        ]
        outcome = resolution.outcome if resolution is not None else "open"
        summary = _summary(motion, data)
        motions.append(
            {
                "id": motion.pk,
                "agenda_item_id": motion.agenda_item_id,
                "text": motion.text,
                "kind": motion.kind,
                "secret": motion.secret,
                "outcome": outcome,
                "options": options,
                "summary": summary,
                "opened_at": iso_utc(motion.opened_at),
                "closed_at": iso_utc(motion.closed_at),
                "result": data,
            }
        )
        if resolution is not None:
            resolutions.append(
                {
                    "id": resolution.pk,
                    "motion_id": motion.pk,
                    "text": motion.text,
                    "outcome": resolution.outcome,
                    "summary": summary,
                    "decided_at": iso_utc(resolution.created_at),
                    "receipt_count": len(resolution.receipt_hashes),
                }
            )
    return {"motions": motions, "resolutions": resolutions}


def resolution_ids(*, session: TopicSession) -> set[int]:
    return {r["id"] for r in session_votes(session=session)["resolutions"]}


def final_decisions(*, user: Any, community_slug: str = "") -> list[dict[str, Any]]:
    """The owners' decisions made final that the user may read, for the archive beside the
    minutes of their sessions (voting/decisions/pages/selectors.py)."""
    return archive_decisions(user=user, community_slug=community_slug)
