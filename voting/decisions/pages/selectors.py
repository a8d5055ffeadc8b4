"""What the decision's pages read: the community's list, the decision page, the ballot, the
notices (from their sealed bodies), the room's panel, the reminder banner and the archive.

Reads only. Who may see what is voting/decisions/rules.py; the sentences of the state line are
here because every page of a decision shows the same one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast, Concat
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from agora.infra import clock
from agora.roster.models import Community, Resident, Tenure
from agora.roster.roles import AnyUser, member_community_ids
from voting.choices import option_label
from voting.decisions.ballots import CHANNEL_SENTENCES, matters_of, options_of, proxies_held
from voting.decisions.chain import step_body
from voting.decisions.lifecycle import notices_of
from voting.decisions.rules import DecisionFacts, manages, sees_canvass_list
from voting.models import (
    Channel,
    Decision,
    DecisionState,
    DecisionStep,
    DecisionVote,
    Motion,
    MotionKind,
    MotionOption,
    Objection,
    Outcome,
    StepKind,
    UnitMode,
    VoteState,
)
from voting.units import DecisionUnit, decision_base, unit_of_user

# Kinds whose options the moderator wrote (the others are 赞成/反对/弃权, said once on the ballot).
CUSTOM_OPTIONS = {MotionKind.SINGLE, MotionKind.APPROVAL, MotionKind.RANKED}

# Where each channel's own pages live (the other features' packages; fixed paths, docs/decisions-over-days.md).
FEATURE_PATHS = {"progress": "progress", "paper": "paper", "door": "door", "results": "results"}


def when_text(at: datetime) -> str:
    """A time as the reader's language writes it, in the community's time zone: Chinese as
    Django writes it (2026年12月28日 23:59), English on a 24-hour clock (Dec. 28, 2026, 23:59),
    so a sentence ending in a full stop never reads "p.m.."."""
    local = timezone.localtime(at)
    if (get_language() or "").startswith("zh"):
        return formats.date_format(local, "DATETIME_FORMAT")
    return formats.date_format(local, "N j, Y, H:i")


def when(value: str | datetime | None) -> str:
    """A sealed ISO time (or a datetime) as the reader's language writes it."""
    if value is None or value == "":
        return ""
    at = parse_datetime(value) if isinstance(value, str) else value
    return when_text(at) if at is not None else str(value)


def state_line(decision: Decision) -> str | Promise:
    """One sentence of where the decision stands, the same on every page of it."""
    state = decision.state
    if state == DecisionState.DRAFT:
        return _("Draft: not announced yet. Owners do not see it.")
    if state == DecisionState.ANNOUNCED:
        return _("Voting opens at %(time)s.") % {"time": when_text(decision.opens_at)}
    if state == DecisionState.OPEN:
        if clock.now() >= decision.closes_at:
            return _("Voting closed at %(time)s; the count is being made.") % {"time": when_text(decision.closes_at)}
        return _("Voting is open until %(time)s.") % {"time": when_text(decision.closes_at)}
    if state in {DecisionState.CLOSED, DecisionState.PRELIMINARY}:
        if decision.objections_close_at is None:
            return _("Voting has closed; the count is being made.")
        return _("Voting has closed. The preliminary result is published; objections may be lodged until %(time)s.") % {
            "time": when_text(decision.objections_close_at)
        }
    return _("Final: the decision is in effect.")


def community_decisions(*, community: Community, moderator: bool) -> list[Decision]:
    qs = Decision.objects.filter(community=community)
    if not moderator:
        qs = qs.exclude(state=DecisionState.DRAFT)
    return list(qs.order_by("-opens_at", "-pk")[:100])


def user_communities(*, user: AnyUser) -> list[Community]:
    ids = member_community_ids(user=user)
    qs = Community.objects.all() if ids is None else Community.objects.filter(pk__in=ids)
    return list(qs.order_by("name"))


def vote_of_unit(decision: Decision, unit: DecisionUnit) -> DecisionVote | None:
    return DecisionVote.objects.filter(decision=decision, unit_key=unit.unit_key).exclude(state=VoteState.VOIDED).first()


def voted_sentence(vote: DecisionVote) -> str:
    how = CHANNEL_SENTENCES.get(vote.channel, vote.channel)
    return str(_("Your household voted %(how)s at %(time)s. Each unit is counted once.") % {"how": how, "time": when_text(vote.at)})


@dataclass(frozen=True)
class BallotMatter:
    matter: Motion
    options: list[dict[str, Any]]  # id, code, label (option_label: 赞成/反对/弃权 in the reader's language)

    @property
    def ranked(self) -> bool:
        return self.matter.kind == MotionKind.RANKED

    @property
    def approval(self) -> bool:
        return self.matter.kind == MotionKind.APPROVAL

    @property
    def ranks(self) -> list[int]:
        return list(range(1, len(self.options) + 1))


def ballot_matters(decision: Decision) -> tuple[list[Motion], dict[int, list[MotionOption]], list[BallotMatter]]:
    matters = matters_of(decision)
    options = {m.pk: options_of(m) for m in matters}
    shown = [
        BallotMatter(m, [{"id": o.pk, "code": o.code, "label": option_label({"code": o.code, "label": o.label})} for o in options[m.pk]])
        for m in matters
    ]
    return matters, options, shown


def ballot_rows(shown: list[BallotMatter], choices: dict[int, list[int]] | None = None) -> list[dict[str, Any]]:
    """The ballot form's matters with what was chosen so far ticked (the form shown again)."""
    choices = choices or {}
    rows = []
    for item in shown:
        mine = choices.get(item.matter.pk, [])
        rows.append(
            {
                "matter": item.matter,
                "kind_text": matter_kind_text(item.matter.kind, item.matter.major_matter),
                "ranked": item.ranked,
                "approval": item.approval,
                "options": [{**o, "checked": o["id"] in mine} for o in item.options],
                "ranks": [
                    {"n": n, "options": [{**o, "checked": len(mine) >= n and mine[n - 1] == o["id"]} for o in item.options]}
                    for n in item.ranks
                ],
            }
        )
    return rows


def chosen_labels(shown: list[BallotMatter], choices: dict[int, list[int]]) -> list[dict[str, Any]]:
    """What the owner chose, matter by matter, in words (the confirmation step)."""
    out = []
    for item in shown:
        by_id = {o["id"]: o["label"] for o in item.options}
        out.append(
            {"matter": item.matter, "labels": [by_id[c] for c in choices.get(item.matter.pk, []) if c in by_id], "ranked": item.ranked}
        )
    return out


def matter_kind_text(kind: str, major: bool) -> str | Promise:
    if kind == MotionKind.ART278:
        return _("Art. 278, major matter") if major else _("Art. 278, ordinary matter")
    return MotionKind(kind).label if kind in MotionKind.values else kind


def decision_page(*, decision: Decision, facts: DecisionFacts, user: AnyUser) -> dict[str, Any]:
    """The decision page's context: what members read, and the moderator's controls."""
    now = clock.now()
    _matters, _options, shown = ballot_matters(decision)
    base = decision_base(decision)
    unit: DecisionUnit | None = None
    unit_reason: str | Promise = ""
    vote = None
    if user.is_authenticated and facts.role is not None:
        unit, unit_reason = unit_of_user(decision, user.pk)
        vote = vote_of_unit(decision, unit) if unit is not None else None
    objections = list(Objection.objects.filter(decision=decision).order_by("at", "pk"))
    moderator = manages(facts)
    state = decision.state
    in_window = state == DecisionState.PRELIMINARY and decision.objections_close_at is not None and now < decision.objections_close_at
    prefix = f"/decisions/{decision.pk}/"
    return {
        "decision": decision,
        "period_start": when_text(decision.opens_at),
        "period_end": when_text(decision.closes_at),
        "moderator": moderator,
        "canvasser": sees_canvass_list(facts),
        "channels_how": [CHANNEL_HOW[c] for c in (Channel.ONLINE, Channel.PAPER, Channel.DOOR, Channel.PROXY)],
        "room_how": CHANNEL_HOW[Channel.IN_PERSON],
        "state_line": state_line(decision),
        "matters": [
            {
                "item": item,
                "kind_text": matter_kind_text(item.matter.kind, item.matter.major_matter),
                "option_text": " / ".join(str(o["label"]) for o in item.options) if item.matter.kind in CUSTOM_OPTIONS else "",
            }
            for item in shown
        ],
        "base": base,
        "buildings": [b.name for b in decision.buildings.order_by("name")],
        "sessions": list(decision.sessions.order_by("starts_at")),
        "notices": [{"step": s, "title": StepKind(s.kind).label, "at": when_text(s.at)} for s in notices_of(decision)],
        "objections": objections,
        "unit": unit,
        "unit_reason": unit_reason,
        "vote": vote,
        "voted_sentence": voted_sentence(vote) if vote is not None else "",
        # A proxy holder votes for the principal's unit on the door package's page.
        "held": proxies_held(decision=decision, user=user) if user.is_authenticated and decision.state == DecisionState.OPEN else [],
        "can_vote_now": unit is not None and vote is None and state == DecisionState.OPEN and decision.opens_at <= now < decision.closes_at,
        "can_object": unit is not None and in_window,
        "in_window": in_window,
        "can_finalize": moderator and state == DecisionState.PRELIMINARY and not in_window,
        "unanswered": sum(1 for o in objections if o.answered_at is None),
        "can_extend": moderator and state in {DecisionState.ANNOUNCED, DecisionState.OPEN} and now < decision.closes_at,
        "has_room": decision.sessions.exists(),
        "feature_links": {name: f"{prefix}{path}/" for name, path in FEATURE_PATHS.items()},
        "household_mode": decision.unit_mode == UnitMode.HOUSEHOLD,
    }


# --- notices -------------------------------------------------------------------------------

CHANNEL_HOW: dict[str, Promise] = {
    Channel.ONLINE: _("Online: sign in to Agora on a phone or computer, open the decision and vote. The receipt shows it was counted."),
    Channel.PAPER: _(
        "On paper: each unit receives a personal ballot (表决票). Tick one box per matter, sign it and hand it back to the "
        "residents' committee before voting closes."
    ),
    Channel.DOOR: _("Door to door: a grid worker can visit and record the ballot with the owner present."),
    Channel.PROXY: _(
        "By proxy: an owner may authorise someone with a signed written proxy (委托书), recorded by the residents' committee."
    ),
    Channel.IN_PERSON: _("In the meeting room: during a meeting on the decision, owners present can vote there."),
}


def _outcome_text(code: str) -> str | Promise:
    return Outcome(code).label if code in Outcome.values else code


def _result_matter(m: dict[str, Any]) -> dict[str, Any]:
    data = m.get("data") or {}
    art = data.get("art278")
    options = [{"label": option_label(o), "total": o.get("total", 0), "weight": o.get("weight", "")} for o in data.get("options", [])]
    return {
        "position": m.get("position"),
        "text": m.get("text"),
        "outcome": _outcome_text(m.get("outcome", "")),
        "art278": art,
        "options": options,
        "participation": data.get("participation") or {},
        "receipt_count": len(m.get("receipt_hashes") or []),
    }


def notice_view(step: DecisionStep) -> dict[str, Any]:
    """A notice as its page (and its PDF) shows it, read from the sealed body only."""
    view = notice_content(step.kind, step_body(step))
    view.update({"step": step, "seq": step.seq, "hash": step.content_hash, "prev_hash": step.prev_hash})
    return view


def notice_content(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """What a notice of this kind says, from its body (a sealed step's, or the body the
    announcement is about to seal: the confirm page shows the notice before it exists)."""
    view: dict[str, Any] = {
        "kind": kind,
        "heading": StepKind(kind).label,
        "title": body.get("title", ""),
        "at": when(body.get("at")),
    }
    if kind == StepKind.ANNOUNCED:
        base = body.get("base") or {}
        view.update(
            {
                "description": body.get("description", ""),
                "opens_at": when(body.get("opens_at")),
                "closes_at": when(body.get("closes_at")),
                "buildings": body.get("buildings") or [],
                "matters": [
                    {
                        **m,
                        "kind_text": matter_kind_text(m.get("kind", ""), bool(m.get("major_matter"))),
                        "option_labels": [option_label(o) for o in m.get("options", [])] if m.get("kind") in CUSTOM_OPTIONS else [],
                    }
                    for m in body.get("matters", [])
                ],
                "headcount": base.get("headcount"),
                "area": base.get("area"),
                "channels": [CHANNEL_HOW[c] for c in body.get("channels", []) if c in CHANNEL_HOW],
                "shortened_reason": body.get("notice_shortened_reason", ""),
                "notice_days": body.get("notice_days"),
                "objection_days": body.get("objection_days"),
                "secret": body.get("secret"),
                "household_mode": body.get("unit_mode") == UnitMode.HOUSEHOLD,
                "needs_area": body.get("needs_area"),
            }
        )
    elif kind == StepKind.EXTENDED:
        view.update(
            {
                "closes_at_before": when(body.get("closes_at_before")),
                "closes_at": when(body.get("closes_at")),
                "reason": body.get("reason", ""),
            }
        )
    else:
        base = body.get("base") or {}
        view.update(
            {
                "closes_at": when(body.get("closes_at")),
                "headcount": base.get("headcount"),
                "area": base.get("area"),
                "participation": [
                    {"label": Channel(c).label if c in Channel.values else c, "count": n}
                    for c, n in (body.get("participation") or {}).items()
                ],
                "participation_total": sum((body.get("participation") or {}).values()),
                "unsettled": body.get("not_counted_unsettled_paper", 0),
                "results": [_result_matter(m) for m in body.get("matters", [])],
                "objections_close_at": when(body.get("objections_close_at")),
                "counting_officers": body.get("counting_officers") or [],
                "objections": body.get("objections") or [],
            }
        )
    return view


def receipt_in_notice(step: DecisionStep, receipt: str) -> list[int]:
    """The positions of the matters whose counted list has this receipt (``<receipt>.<N>``)."""
    import hashlib

    receipt = receipt.strip()
    found = []
    for m in step_body(step).get("matters", []):
        mine = hashlib.sha256(f"{receipt}.{m.get('position')}".encode()).hexdigest()
        if mine in (m.get("receipt_hashes") or []):
            found.append(int(m.get("position") or 0))
    return found


def notice_steps_of(decision: Decision) -> list[DecisionStep]:
    return notices_of(decision)


# --- the reminder banner: one query per page, only when the page shows it ---------------------


def _unit_key_expr() -> Any:
    """The unit key of the user's household as SQL, the rule of voting.units.unit_key_for."""
    household = Cast("hh", output_field=CharField())
    return Case(
        When(decision_mode=UnitMode.HOUSEHOLD, then=Concat(Value("h:"), household)),
        When(okey="", then=Concat(Value("o:household-"), household)),
        default=Concat(Value("o:"), "okey"),
        output_field=CharField(),
    )


def reminders_for(*, user: AnyUser) -> list[Decision]:
    """Open decisions for which the user is a verified owner in scope and their unit has not
    voted, in one query (units by the rule of voting.units.unit_key_for)."""
    if not user.is_authenticated:
        return []
    now = clock.now()
    mine = Resident.objects.filter(user_id=user.pk, community_id=OuterRef("community_id"), tenure=Tenure.OWNER, verified=True)
    qs = (
        Decision.objects.filter(state=DecisionState.OPEN, opens_at__lte=now, closes_at__gt=now)
        .annotate(
            hh=Subquery(mine.values("household_id")[:1]),
            okey=Subquery(mine.values("household__owner_key")[:1]),
            hb=Subquery(mine.values("household__building_id")[:1]),
            decision_mode=F("unit_mode"),
        )
        .filter(hh__isnull=False)
    )
    scoped = Decision.buildings.through.objects.filter(decision_id=OuterRef("pk"))
    qs = qs.annotate(scoped=Exists(scoped), in_scope=Exists(scoped.filter(building_id=OuterRef("hb")))).filter(
        Q(scoped=False) | Q(in_scope=True)
    )
    qs = qs.annotate(ukey=_unit_key_expr())
    voted = DecisionVote.objects.filter(decision_id=OuterRef("pk"), unit_key=OuterRef("ukey")).exclude(state=VoteState.VOIDED)
    return list(qs.annotate(voted=Exists(voted)).filter(voted=False).only("pk", "title", "closes_at").order_by("closes_at")[:3])


def reminder_banner(request: HttpRequest) -> list[dict[str, Any]]:
    """The banner's decisions for this request (read once, on first use)."""
    cached = getattr(request, "_agora_decision_reminders", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = []
        if user is not None and user.is_authenticated:
            for d in reminders_for(user=user):
                vote_url = reverse("decisions:pages_vote", args=[d.pk])
                if request.path != vote_url:
                    cached.append({"id": d.pk, "title": d.title, "closes_at": when_text(d.closes_at), "url": vote_url})
        request._agora_decision_reminders = cached  # type: ignore[attr-defined]
    return cached


# --- the archive (records/voting_bridge.py) ---------------------------------------------------


def archive_decisions(*, user: AnyUser, community_slug: str = "") -> list[dict[str, Any]]:
    """Final decisions the user may read (members of their community), newest first, as plain
    data: the archive lists them beside the minutes of their sessions."""
    ids = member_community_ids(user=user)
    qs = Decision.objects.filter(state=DecisionState.FINAL).select_related("community")
    if ids is not None:
        qs = qs.filter(community_id__in=ids)
    if community_slug:
        qs = qs.filter(community__slug=community_slug)
    decisions = list(qs.prefetch_related("sessions").order_by("-final_at", "-pk")[:50])
    finals = dict(DecisionStep.objects.filter(decision__in=decisions, kind=StepKind.FINAL).order_by("seq").values_list("decision_id", "pk"))
    return [
        {
            "id": d.pk,
            "title": d.title,
            "community": d.community.name,
            "final_at": when_text(d.final_at) if d.final_at else "",
            "url": reverse("decisions:pages_detail", args=[d.pk]),
            "notice_url": reverse("decisions:pages_notice", args=[d.pk, finals[d.pk]]) if d.pk in finals else "",
            "session_ids": [s.pk for s in d.sessions.all()],
            "session_titles": [s.title for s in d.sessions.all()],
        }
        for d in decisions
    ]


def area_text(value: Decimal | str | None) -> str:
    return f"{value}" if value is not None else ""
