"""The moderator's console: what to do next, and adjourning safely.

``next_step`` is a pure function over ``ConsoleFacts`` (read by ``console_facts``): the one step the
console shows at the top of its pane, and the steps after it, e.g. "2 votes are still open" →
close them → adjourn → draft the minutes → publish them. ``session_adjourn`` is how the console
adjourns: refused while a vote is open, unless the moderator chose to close the open votes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from agora.infra.errors import NotAllowed, Refused
from sessions import rules, services
from sessions.live import sources
from sessions.models import AgendaItemState, SessionState, TopicSession


def session_adjourn(*, session: TopicSession, by: User, close_open_votes: bool = False) -> TopicSession:
    """End the live meeting. Refused while a vote is open (code ``votes_open``), unless
    ``close_open_votes``: then every open vote is closed with its result first, in the same
    transaction as the adjournment, so no vote stays "open" in an adjourned session."""
    if not rules.can_moderate(user=by, session=session):
        raise NotAllowed(_("Only a moderator of this community can do that."))
    with transaction.atomic():
        TopicSession.objects.select_for_update().get(pk=session.pk)
        open_votes = sources.open_votes_count(session_id=session.pk)
        if open_votes and not close_open_votes:
            raise Refused(votes_open_sentence(open_votes), code="votes_open")
        if open_votes:
            sources.open_votes_close(session_id=session.pk, by=by)
        return services.topic_session_adjourn(session=session, by=by)


def votes_open_sentence(n: int) -> str:
    return str(
        ngettext_lazy(
            "%(n)d vote is still open. Close it before adjourning, or choose to close it now.",
            "%(n)d votes are still open. Close them before adjourning, or choose to close them now.",
            n,
        )
        % {"n": n}
    )


@dataclass(frozen=True)
class ConsoleFacts:
    state: str
    starts_at: datetime
    now: datetime
    open_votes: int = 0
    draft_votes: int = 0
    agenda_pending: int = 0
    agenda_current: bool = False
    adjourned_at: datetime | None = None
    minutes_drafted: bool = False
    minutes_published: bool = False


@dataclass(frozen=True)
class Step:
    """One step: ``action`` says which control the console shows for it (the template's table)."""

    action: str
    text: str | Promise
    then: tuple[str | Promise, ...] = ()


LABELS: dict[str, Promise] = {
    "schedule": _("schedule it"),
    "open": _("open the session"),
    "close_votes": _("close the open votes"),
    "agenda_next": _("next agenda item"),
    "adjourn": _("adjourn"),
    "draft_minutes": _("draft the minutes"),
    "publish_minutes": _("publish the minutes"),
}


def _after(*actions: str) -> tuple[Promise, ...]:
    return tuple(LABELS[a] for a in actions)


def next_step(f: ConsoleFacts) -> Step:
    """What the moderator should do next, and what comes after it."""
    if f.state == SessionState.DRAFT:
        return Step("schedule", _("Draft: residents cannot see it yet. Schedule it to publish it."), _after("open", "adjourn"))
    if f.state == SessionState.SCHEDULED:
        if f.starts_at <= f.now:
            return Step("open", _("The start time has passed. Open the session to go live."), _after("adjourn", "draft_minutes"))
        return Step("open", _("Scheduled. Open the session when the meeting starts."), _after("adjourn", "draft_minutes"))
    if f.state == SessionState.LIVE:
        if f.open_votes:
            text = ngettext_lazy("%(n)d vote is still open", "%(n)d votes are still open", f.open_votes) % {"n": f.open_votes}
            return Step("close_votes", text, _after("close_votes", "adjourn", "draft_minutes"))
        if f.agenda_pending:
            text = ngettext_lazy("%(n)d agenda item to go", "%(n)d agenda items to go", f.agenda_pending) % {"n": f.agenda_pending}
            return Step("agenda_next", text, _after("agenda_next", "adjourn", "draft_minutes"))
        return Step("adjourn", _("Every agenda item has been discussed. Adjourn the session."), _after("draft_minutes", "publish_minutes"))
    if f.state == SessionState.ADJOURNED:
        if f.minutes_drafted:
            return Step("publish_minutes", _("The minutes are drafted. Check them and publish."))
        return Step("draft_minutes", _("The session is adjourned. Draft the minutes."), _after("publish_minutes"))
    return Step("read_minutes", _("The minutes are published. This session is closed."))


def console_facts(*, session: TopicSession, now: datetime | None = None) -> ConsoleFacts:
    items = list(session.agenda_items.values_list("state", flat=True)) if session.state == SessionState.LIVE else []
    current_id = TopicSession.objects.filter(pk=session.pk).values_list("current_agenda_item_id", flat=True).first()
    adjourned_at = None
    if session.state == SessionState.ADJOURNED:
        adjourned_at = (
            session.transitions.filter(to_state=SessionState.ADJOURNED).order_by("-at", "-pk").values_list("at", flat=True).first()
        )
    extra = sources.console_facts(session_id=session.pk)
    return ConsoleFacts(
        state=session.state,
        starts_at=session.starts_at,
        now=now or timezone.now(),
        open_votes=sources.open_votes_count(session_id=session.pk) if session.state == SessionState.LIVE else 0,
        agenda_pending=sum(1 for s in items if s in (AgendaItemState.PENDING, AgendaItemState.CURRENT)),
        agenda_current=bool(current_id),
        adjourned_at=adjourned_at,
        minutes_drafted=bool(extra.get("minutes_drafted")),
        minutes_published=bool(extra.get("minutes_published")),
    )


def console_context(*, session: TopicSession, now: datetime | None = None) -> dict[str, object]:
    """The next-step card's context (the session page and its live refresh render the same fragment)."""
    facts = console_facts(session=session, now=now)
    step = next_step(facts)
    until = services.adjourn_undo_until(adjourned_at=facts.adjourned_at)
    undo = until is not None and facts.now <= until and not facts.minutes_published
    return {"session": session, "step": step, "facts": facts, "undo_until": until if undo else None}


def adjourn_context(*, session: TopicSession) -> dict[str, object]:
    """The "adjourn the session?" page: the open votes, and whether adjourning is possible at all."""
    open_votes = sources.open_votes_count(session_id=session.pk) if session.state == SessionState.LIVE else 0
    return {
        "session": session,
        "live": session.state == SessionState.LIVE,
        "open_votes": open_votes,
        "votes_open_sentence": votes_open_sentence(open_votes) if open_votes else "",
        "undo_minutes": services.ADJOURN_UNDO_SECONDS // 60,
    }
