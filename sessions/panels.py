"""The session page's panels (docs/architecture.md, "Session page panels").

The page is a list of panels. Each one is registered with a name, an order, who sees it
(``visible``, a predicate over the viewer) and ``build``, which reads what the panel shows and
returns its template's context (or None: nothing to show now). The session page view calls
``page_panels(viewer)``; the page template renders each panel's fragment with its context
(``{% panel shown %}``) and asks the database nothing. Building only reads: a GET writes nothing.

The core's panels and the meeting's are registered here; the apps above sessions register
theirs in their ``AppConfig.ready`` (voting: the votes, records: the minutes), so sessions never
imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sessions import rules, selectors
from sessions.forms import MessageForm
from sessions.meeting.console import console_context
from sessions.meeting.panels import meeting_context
from sessions.models import AttendanceIntent, SessionState, TopicSession


@dataclass
class Viewer:
    """Who looks at which session, with the rules the panels ask, each read once per page."""

    request: HttpRequest
    session: TopicSession

    @property
    def user(self) -> Any:
        return self.request.user

    @cached_property
    def moderator(self) -> bool:
        return rules.can_moderate(user=self.user, session=self.session)

    @cached_property
    def before_seq(self) -> int | None:
        """``?before=N``: the page of messages before N instead of the latest (None: the latest)."""
        raw = self.request.GET.get("before", "")
        return int(raw) if raw.isdigit() and len(raw) < 19 and int(raw) > 0 else None

    @cached_property
    def can_post(self) -> bool:
        return rules.can_post(user=self.user, session=self.session)


Build = Callable[[Viewer], "dict[str, Any] | None"]


def everyone(viewer: Viewer) -> bool:
    return True


def moderators(viewer: Viewer) -> bool:
    return viewer.moderator


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    template: str
    build: Build
    visible: Callable[[Viewer], bool] = everyone


@dataclass(frozen=True)
class Shown:
    """A panel as the page renders it: its fragment and the context built for this viewer."""

    name: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)


PANELS: dict[str, Panel] = {}


def panel_register(panel: Panel) -> Panel:
    """Add a panel to the page (an app's ``ready`` may run twice: the same panel again is kept)."""
    known = PANELS.get(panel.name)
    if known is not None and known != panel:
        raise RuntimeError(f"two session page panels named {panel.name!r}")
    PANELS[panel.name] = panel
    return panel


def session_panel(name: str, *, order: int, template: str, visible: Callable[[Viewer], bool] = everyone) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        panel_register(Panel(name=name, order=order, template=template, build=build, visible=visible))
        return build

    return register


def page_panels(viewer: Viewer) -> list[Shown]:
    """The panels this viewer sees on the session page, in order, each with its context."""
    shown = []
    for panel in sorted(PANELS.values(), key=lambda p: (p.order, p.name)):
        if not panel.visible(viewer):
            continue
        context = panel.build(viewer)
        if context is not None:
            shown.append(Shown(panel.name, panel.template, context))
    return shown


# --- the core's panels and the meeting's, in page order -------------------------------------
# (voting registers "votes" at 40, records "minutes" at 50)


@session_panel("agenda", order=10, template="sessions/panels/_agenda.html")
def agenda_panel(viewer: Viewer) -> dict[str, Any] | None:
    agenda = list(viewer.session.agenda_items.all())
    return {"agenda": agenda} if agenda else None


@session_panel("attend", order=20, template="sessions/partials/_attend.html")
def attend_panel(viewer: Viewer) -> dict[str, Any] | None:
    session = viewer.session
    if session.state != SessionState.SCHEDULED:
        return None
    return {
        "can_attend": rules.can_attend(user=viewer.user, session=session),
        "attending": AttendanceIntent.objects.filter(session=session, user=viewer.user).exists(),
        "attending_count": session.attendance_intents.count(),
    }


@session_panel("moderator", order=30, template="sessions/panels/_moderator.html", visible=moderators)
def moderator_panel(viewer: Viewer) -> dict[str, Any]:
    return {"transitions": list(viewer.session.transitions.select_related("by")), **console_context(session=viewer.session)}


@session_panel("meeting", order=60, template="sessions/meeting/_panel.html")
def meeting_panel(viewer: Viewer) -> dict[str, Any] | None:
    return meeting_context(request=viewer.request, session=viewer.session, moderator=viewer.moderator, can_post=viewer.can_post)


@session_panel("discussion", order=70, template="sessions/panels/_discussion.html")
def discussion_panel(viewer: Viewer) -> dict[str, Any]:
    session = viewer.session
    page = selectors.messages_page(session=session, before_seq=viewer.before_seq)
    return {
        "history": page["messages"],
        "earlier_before": page["earlier_before"],
        # Showing earlier messages (?before=): the live page goes on from the latest one.
        "history_window": "earlier" if viewer.before_seq is not None else "latest",
        "last_seq": page["latest_seq"],
        "can_post": viewer.can_post,
        "presence": selectors.presence_snapshot(session_id=session.pk) if session.state != SessionState.DRAFT else None,
        "form": MessageForm(initial={"text": viewer.request.session.pop("draft_text", ""), "idempotency_key": MessageForm.new_key()}),
    }


# The resident's room on a phone: a bottom bar of the page's parts (docs/live-page.md). Each entry
# is (key, the panel it jumps to, the element id, its label); a part whose panel is not on the page
# has no entry. The agenda entry falls back to the session's heading (what, when, where).
ROOM_TABS = (
    ("discussion", "discussion", "discussion", _("Discussion")),
    ("votes", "votes", "motions", _("Votes")),
    ("floor", "meeting", "meeting", _("Speak")),
    ("agenda", "agenda", "agenda", _("Agenda")),
)


def room_tabs(viewer: Viewer, panels: list[Shown]) -> list[dict[str, Any]]:
    """The bottom bar for a resident's live or coming session (none for moderators, whose page is
    the console, or for a draft)."""
    if viewer.moderator or viewer.session.state not in (SessionState.SCHEDULED, SessionState.LIVE):
        return []
    names = {p.name for p in panels}
    tabs = []
    for key, panel, target, label in ROOM_TABS:
        if panel in names:
            tabs.append({"key": key, "target": target, "label": label})
        elif key == "agenda":
            tabs.append({"key": key, "target": "session-head", "label": label})
    return tabs


def page_context(viewer: Viewer) -> dict[str, Any]:
    """Everything the session page template renders."""
    panels = page_panels(viewer)
    discussion = next((p for p in panels if p.name == "discussion"), None)
    return {
        "room_tabs": room_tabs(viewer, panels),
        "session": viewer.session,
        "is_moderator_view": viewer.moderator,
        "audience_labels": [t.label(get_language()) for t in viewer.session.audience_tags.all()],
        "last_seq": discussion.context["last_seq"] if discussion else 0,
        "panels": panels,
    }
