"""What the minutes need from voting: motions with their tallies, resolutions, online voters.

The one place that reads voting's data for the minutes. Everything returned is plain,
JSON-safe and float-free (the canonical JSON has one spelling per number).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

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
    """The rule and the participation in words, in Chinese, as minutes sealed them before the rule
    was kept as data (``_rule``); still sealed beside it for readers of older exports."""
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


def _rule(motion: Motion, data: dict[str, Any]) -> dict[str, Any]:
    """The rule and the participation as data, sealed with the minutes and put in words in the
    reader's language when shown (``rule_words``): the words are not sealed, the facts are."""
    p = data.get("participation") or {}
    eligible = (data.get("eligible") or {}).get("weight")
    return {
        "kind": motion.kind,
        "base": motion.base if motion.kind == MotionKind.APPROVE_REJECT else "",
        "threshold": motion.threshold if motion.kind == MotionKind.APPROVE_REJECT else "",
        "quorum": motion.quorum_text if motion.quorum is not None else "",
        "took_part": str(p.get("total", 0)) if p else "",
        "eligible": str(eligible) if p and eligible is not None else "",
        "rate": str(p.get("rate", "")) if p else "",
    }


def rule_words(item: dict[str, Any]) -> str:
    """A sealed motion's or resolution's rule in the current language; minutes sealed before the
    rule was kept as data show the summary they were sealed with."""
    rule = item.get("rule")
    if not isinstance(rule, dict):
        return str(item.get("summary", ""))
    kind = rule.get("kind", "")
    parts = [str(MotionKind(kind).label) if kind in MotionKind.values else str(kind)]
    if rule.get("base") in Base.values and rule.get("threshold") in Threshold.values:
        parts.append(_("%(base)s, %(threshold)s") % {"base": Base(rule["base"]).label, "threshold": Threshold(rule["threshold"]).label})
    if rule.get("quorum"):
        parts.append(_("quorum %(quorum)s") % {"quorum": rule["quorum"]})
    if rule.get("took_part"):
        parts.append(
            _("%(n)s of %(eligible)s took part (%(rate)s%%)")
            % {"n": rule["took_part"], "eligible": rule.get("eligible") or "?", "rate": rule.get("rate", "")}
        )
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
        rule = _rule(motion, data)
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
                "rule": rule,
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
                    "rule": rule,
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
