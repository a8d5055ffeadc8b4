"""Permission table for the topic-session and meeting views: every role against each view, refusals change nothing.

Issue 7. ``TABLE`` says who is allowed; ``CASES`` says how to try the view (URL, form data, what a
refusal looks like, which table a change shows in, which text a refused page must not show).
Each row is one test (the 21 moderator-only meeting commands share one, on one meeting): the
seven roles try the view in turn, each inside a savepoint that is rolled back afterwards, so every
role meets the same state and one world serves the whole row. Problems are collected over all
roles, so a failure names every role that went against the table.

The machinery (``Case``, ``run_row``) is shared by the other tables in this package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cached_property
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    load_backend,
)
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sessions.meeting import services as meeting_services
from sessions.models import (
    Attendance,
    AttendanceIntent,
    FloorRequest,
    MeetingRoom,
    Message,
    SessionState,
    TopicSession,
)
from tests.factories import World, session_make
from tests.sessions.meeting_helpers import (
    Meeting,
    fingerprint,
    meeting_make,
    moderator_actions,
)

ROLES = ["anonymous", "other_resident", "outsider", "observer", "resident", "other_moderator", "moderator"]
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
LOGIN = "login"  # a refused anonymous visitor of a login-only view is sent to the login page

Ctx = Any  # each table's fixture: ``.world`` plus the states its rows need (built on first use)


@dataclass(frozen=True)
class Case:
    """How to try one row. ``ok``/``refused`` are the status codes (one, or one per role);
    ``anonymous`` is ``LOGIN`` (302 to the login page) or a status code, for a refused visitor."""

    url: Callable[[Ctx], str]
    ok: int | Mapping[str, int] = 200
    refused: int | Mapping[str, int] = 404
    anonymous: int | str = LOGIN
    data: Callable[[Ctx], dict[str, Any]] | None = None
    # What the view changes, as plain comparable values: must change when allowed, stay equal when refused.
    snapshot: Callable[[Ctx], Any] | None = None
    # Protected text: shown to ``seen_by`` (default: the allowed roles), absent from every other response.
    secret: Callable[[Ctx], str] | None = None
    seen_by: frozenset[str] | None = None
    # Further assertions: check(ctx, role, allowed, response, client) -> problem or "".
    check: Callable[[Ctx, str, bool, HttpResponse, Client], str] | None = None


def per_role(default: int, **codes: int) -> dict[str, int]:
    return {role: codes.get(role, default) for role in ROLES}


# The live session of the world is seen by its audience, its invited observer and its moderators;
# the others are told it does not exist (404). Those who see it but lack the right get 403.
SEES_SESSION = frozenset({"observer", "resident", "moderator"})
SEEN_403 = per_role(404, observer=403, resident=403)


def _signed_in(world: World) -> dict[str, str]:
    """A session key per signed-in role: what ``force_login`` stores, without its login signals
    (the audit log, axes): a row pays for six logins, so this keeps the tables fast."""
    backend = next(path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user"))
    keys = {}
    for role in sorted(SIGNED_IN):
        user = getattr(world, role)
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        keys[role] = store.session_key
    return keys


def _pick(codes: int | Mapping[str, int], role: str) -> int:
    return codes if isinstance(codes, int) else codes[role]


def _try(ctx: Ctx, key: tuple[str, str], allowed: frozenset[str], case: Case, role: str, session_key: str | None, before: Any) -> list[str]:
    method = key[1].split(":")[0]
    url = case.url(ctx)
    client = Client()
    if session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    if method == "post":
        response = client.post(url, case.data(ctx) if case.data else {})
    else:
        response = client.get(url)
    after = case.snapshot(ctx) if case.snapshot else None
    problems: list[str] = []
    status = response.status_code
    if role in allowed:
        expected = _pick(case.ok, role)
        if status != expected:
            problems.append(f"allowed: expected {expected}, got {status}")
        if case.snapshot and after == before:
            problems.append("allowed, but nothing changed")
    else:
        if role == "anonymous" and case.anonymous == LOGIN:
            location = response.get("Location", "")
            if status != 302 or not location.startswith(reverse("login")):
                problems.append(f"refused: expected a redirect to the login page, got {status} {location}")
        else:
            expected = case.anonymous if role == "anonymous" else _pick(case.refused, role)
            if status != expected:
                problems.append(f"refused: expected {expected}, got {status}")
        if case.snapshot and after != before:
            problems.append(f"refused, but the data changed:\n  before {before}\n  after  {after}")
    if case.secret:
        secret = case.secret(ctx)
        shown = secret in (b"".join(response) if response.streaming else response.content).decode(errors="replace")
        should = role in (case.seen_by if case.seen_by is not None else allowed)
        if shown != should:
            problems.append(f"{secret!r} {'shown' if shown else 'not shown'}, expected {'shown' if should else 'hidden'}")
    if case.check:
        problem = case.check(ctx, role, role in allowed, response, client)
        if problem:
            problems.append(problem)
    return [f"{key[0]} {key[1]} as {role}: {p}" for p in problems]


def run_row(ctx: Ctx, key: tuple[str, str], allowed: set[str], case: Case) -> None:
    """Every role tries the row in turn; each try is rolled back so the next meets the same state."""
    problems = row_problems(ctx, key, allowed, case)
    assert not problems, "\n".join(problems)


def row_problems(ctx: Ctx, key: tuple[str, str], allowed: set[str], case: Case) -> list[str]:
    """What went against the table when every role tried the row (each try rolled back)."""
    # Build the row's state outside the savepoints (the fixtures build it on first use).
    case.url(ctx)
    if case.data:
        case.data(ctx)
    if case.secret:
        case.secret(ctx)
    session_keys = _signed_in(ctx.world)
    before = case.snapshot(ctx) if case.snapshot else None  # each role starts from this (savepoints)
    problems: list[str] = []
    for role in ROLES:
        with transaction.atomic():
            problems += _try(ctx, key, frozenset(allowed), case, role, session_keys.get(role), before)
            transaction.set_rollback(True)
    return problems


def post_only(table: Mapping[tuple[str, str], set[str]]) -> list[tuple[str, str]]:
    """One row per view that takes only POST (no GET row for the same URL name): the first of its variants."""
    keys = {}
    for key in table:
        if key[1].startswith("post") and (key[0], "get") not in table:
            keys.setdefault(key[0], key)
    return list(keys.values())


def run_get_on_post_only(ctx: Ctx, key: tuple[str, str], case: Case) -> None:
    """GET on a POST-only view: refused for everyone (405; a visitor is sent to log in first), and nothing changes."""
    run_row(ctx, (key[0], "get" + key[1].removeprefix("post")), set(), replace(case, refused=405, data=None, secret=None, check=None))


# --- This table ------------------------------------------------------------------------------

MODERATOR_COMMANDS = [
    "floor.give", "floor.take", "floor.add", "floor.dismiss", "floor.limit",
    "agenda.next", "agenda.start", "agenda.add",
    "message.pin", "message.unpin", "message.hide", "message.unhide",
    "participant.mute", "participant.unmute", "participant.remove", "participant.restore",
    "slow_mode.set", "guests.set", "checkin.record", "checkin.undo", "projector.rotate",
    "projector.show", "projector.sound",
]  # fmt: skip

# (url name, method[:variant]) -> the roles allowed; every other role is refused.
TABLE: dict[tuple[str, str], set[str]] = {
    ("topic_sessions:list", "get"): set(SIGNED_IN),  # each sees only their own sessions (checked)
    ("topic_sessions:create", "get"): {"moderator"},
    ("topic_sessions:create", "post"): {"moderator"},
    ("topic_sessions:detail", "get"): {"observer", "resident", "moderator"},
    ("topic_sessions:edit", "get"): {"moderator"},
    ("topic_sessions:edit", "post"): {"moderator"},
    ("topic_sessions:attend", "post"): {"resident"},  # "I will attend" is for the audience
    ("topic_sessions:message_create", "post"): {"observer", "resident", "moderator"},  # observers may be given the floor
    ("topic_sessions:transition", "post:schedule"): {"moderator"},
    ("topic_sessions:transition", "post:unschedule"): {"moderator"},
    ("topic_sessions:transition", "post:open"): {"moderator"},
    ("topic_sessions:transition", "post:adjourn"): {"moderator"},
    ("topic_sessions:adjourn_confirm", "get"): {"moderator"},
    ("topic_sessions:adjourn_undo", "post"): {"moderator"},
    ("topic_sessions:meeting_console_next", "get"): {"moderator"},
    ("topic_sessions:meeting_log", "get"): {"moderator"},
    ("topic_sessions:meeting_checkin", "get"): {"moderator"},
    ("topic_sessions:meeting_checkin_qr", "get"): {"moderator"},
    # sessions.meeting.rules.can_raise_hand is can_post while live: moderators pass it too.
    ("topic_sessions:meeting_action", "post:hand.raise"): {"observer", "resident", "moderator"},
    ("topic_sessions:meeting_action", "post:hand.lower"): {"observer", "resident"},  # those whose hand is raised
    **{("topic_sessions:meeting_action", f"post:{name}"): {"moderator"} for name in MODERATOR_COMMANDS},
    ("meeting_join", "get"): set(SIGNED_IN),
    ("meeting_join_code", "get"): {"observer", "resident", "moderator"},
    ("meeting_join_qr", "get"): set(ROLES),  # the image only says where the code leads
    ("meeting_checkin_self", "get"): {"observer", "resident", "moderator"},
    ("meeting_checkin_self", "post"): {"observer", "resident"},  # the audience and invited observers check in
    ("meeting_projector", "get"): set(ROLES),  # the secret link is the key ...
    ("meeting_projector", "get:wrong-token"): set(),  # ... and nothing opens without it
    ("meeting_projector_checkin_qr", "get"): set(ROLES),
    ("meeting_projector_checkin_qr", "get:wrong-token"): set(),
}


class SessionsCtx:
    """The world's live session (audience: car owners, observer invited) and other states on demand."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _session(self, state: str, title: str) -> TopicSession:
        w = self.world
        return session_make(w.community, w.moderator, state=state, audience=[w.car_owner], observers=[w.observer], title=title)

    @cached_property
    def draft(self) -> TopicSession:
        return self._session(SessionState.DRAFT, "草稿专场：充电桩怎么装")

    @cached_property
    def scheduled(self) -> TopicSession:
        return self._session(SessionState.SCHEDULED, "预告专场：租户的车位")

    @cached_property
    def adjourned_now(self) -> TopicSession:
        """Adjourned a moment ago: the adjournment can still be undone."""
        from sessions.services import topic_session_adjourn

        session = self._session(SessionState.LIVE, "刚休会的专场：东门划线")
        return topic_session_adjourn(session=session, by=self.world.moderator)

    @cached_property
    def room(self) -> MeetingRoom:
        return meeting_services.meeting_room_ensure(session=self.world.session)

    @cached_property
    def meeting(self) -> Meeting:
        return meeting_make(self.world)

    @cached_property
    def hands_raised(self) -> TopicSession:
        """The resident and the observer are waiting for the floor."""
        self.meeting  # noqa: B018 — the meeting first
        for user in (self.world.resident, self.world.observer):
            meeting_services.hand_raise(session=self.world.session, user=user)
        return self.world.session


@pytest.fixture
def ctx(world: World) -> SessionsCtx:
    return SessionsCtx(world)


def _sessions(ctx: SessionsCtx) -> list[tuple[Any, ...]]:
    return list(TopicSession.objects.order_by("pk").values_list("pk", "title", "state", "description"))


def _state(session: Callable[[SessionsCtx], TopicSession]) -> Callable[[SessionsCtx], Any]:
    return lambda c: TopicSession.objects.filter(pk=session(c).pk).values_list("state", flat=True).get()


def _session_form(c: SessionsCtx, title: str) -> dict[str, Any]:
    starts = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    return {
        "title": title, "category": "parking", "description": "权限表", "starts_at": starts, "place": "议事厅",
        "audience_tags": [c.world.car_owner.pk], "observers": [c.world.observer.pk], "agenda": "现状\n方案",
    }  # fmt: skip


def _transition(action: str, session: Callable[[SessionsCtx], TopicSession], refused: Mapping[str, int]) -> Case:
    return Case(
        url=lambda c: reverse("topic_sessions:transition", args=[session(c).pk, action]),
        ok=302,
        refused=refused,
        snapshot=_state(session),
    )


def _transition_to(name: str, session: Callable[[SessionsCtx], TopicSession], refused: Mapping[str, int]) -> Case:
    return Case(url=lambda c: reverse(name, args=[session(c).pk]), ok=302, refused=refused, snapshot=_state(session))


def _meeting_url(c: SessionsCtx, action: str) -> str:
    return reverse("topic_sessions:meeting_action", args=[c.world.session.pk, action])


def _moderator_command(name: str) -> Case:
    return Case(
        url=lambda c: (c.meeting, _meeting_url(c, name))[1],
        ok=302,
        refused=SEEN_403,  # the audience and the observer are refused at the edge (403)
        data=lambda c: moderator_actions(c.meeting)[name],
        snapshot=lambda c: fingerprint(c.world.session),
    )


def _floor(c: SessionsCtx) -> list[tuple[Any, ...]]:
    return list(FloorRequest.objects.filter(session=c.world.session).order_by("pk").values_list("pk", "user_id", "state"))


def _title(c: SessionsCtx) -> str:
    return c.world.session.title


def _projector_url(name: str, *, token: Callable[[SessionsCtx], str]) -> Callable[[SessionsCtx], str]:
    return lambda c: reverse(name, kwargs={"token": token(c)})


CASES: dict[tuple[str, str], Case] = {
    ("topic_sessions:list", "get"): Case(url=lambda c: reverse("topic_sessions:list"), secret=_title, seen_by=SEES_SESSION),
    ("topic_sessions:create", "get"): Case(url=lambda c: reverse("topic_sessions:create", args=[c.world.community.slug]), refused=403),
    ("topic_sessions:create", "post"): Case(
        url=lambda c: reverse("topic_sessions:create", args=[c.world.community.slug]),
        ok=302,
        refused=403,
        data=lambda c: _session_form(c, "权限表新建的专场"),
        snapshot=_sessions,
    ),
    ("topic_sessions:detail", "get"): Case(url=lambda c: reverse("topic_sessions:detail", args=[c.world.session.pk]), secret=_title),
    ("topic_sessions:edit", "get"): Case(
        url=lambda c: reverse("topic_sessions:edit", args=[c.world.session.pk]), refused=SEEN_403, secret=_title
    ),
    ("topic_sessions:edit", "post"): Case(
        url=lambda c: reverse("topic_sessions:edit", args=[c.world.session.pk]),
        ok=302,
        refused=SEEN_403,
        data=lambda c: _session_form(c, "权限表改过的标题"),
        snapshot=_sessions,
    ),
    ("topic_sessions:attend", "post"): Case(
        url=lambda c: reverse("topic_sessions:attend", args=[c.scheduled.pk]),
        ok=302,
        # The observer and the moderator see the session: they are told no with a message on the page.
        refused=per_role(404, observer=302, moderator=302),
        data=lambda c: {"attending": "1"},
        snapshot=lambda c: list(AttendanceIntent.objects.order_by("pk").values_list("session_id", "user_id")),
    ),
    ("topic_sessions:message_create", "post"): Case(
        url=lambda c: reverse("topic_sessions:message_create", args=[c.world.session.pk]),
        ok=302,
        data=lambda c: {"text": "权限表测试"},
        snapshot=lambda c: list(Message.objects.order_by("pk").values_list("pk", "author_id", "text_html")),
    ),
    # A draft is the moderators' own: everyone else is told it does not exist.
    ("topic_sessions:transition", "post:schedule"): _transition("schedule", lambda c: c.draft, per_role(404)),
    ("topic_sessions:transition", "post:unschedule"): _transition("unschedule", lambda c: c.scheduled, SEEN_403),
    ("topic_sessions:transition", "post:open"): _transition("open", lambda c: c.scheduled, SEEN_403),
    ("topic_sessions:transition", "post:adjourn"): replace(
        _transition("adjourn", lambda c: c.world.session, SEEN_403), data=lambda c: {"confirmed": "1"}
    ),
    ("topic_sessions:adjourn_confirm", "get"): Case(
        url=lambda c: reverse("topic_sessions:adjourn_confirm", args=[c.world.session.pk]), refused=SEEN_403, secret=lambda c: "确定休会吗"
    ),
    ("topic_sessions:adjourn_undo", "post"): _transition_to("topic_sessions:adjourn_undo", lambda c: c.adjourned_now, SEEN_403),
    ("topic_sessions:meeting_console_next", "get"): Case(
        url=lambda c: reverse("topic_sessions:meeting_console_next", args=[c.world.session.pk]), refused=SEEN_403, secret=lambda c: "下一步"
    ),
    ("topic_sessions:meeting_log", "get"): Case(
        url=lambda c: (c.meeting, reverse("topic_sessions:meeting_log", args=[c.world.session.pk]))[1],
        refused=SEEN_403,
        secret=lambda c: "广告",  # the reason a message was hidden
    ),
    ("topic_sessions:meeting_checkin", "get"): Case(
        url=lambda c: reverse("topic_sessions:meeting_checkin", args=[c.world.session.pk]), refused=SEEN_403, secret=_title
    ),
    ("topic_sessions:meeting_checkin_qr", "get"): Case(
        url=lambda c: reverse("topic_sessions:meeting_checkin_qr", args=[c.world.session.pk]),
        refused=SEEN_403,
        check=lambda c, role, allowed, r, client: "" if allowed == (r.get("Content-Type") == "image/png") else "wrong content type",
    ),
    ("topic_sessions:meeting_action", "post:hand.raise"): Case(
        url=lambda c: (c.meeting, _meeting_url(c, "hand.raise"))[1], ok=302, snapshot=_floor
    ),
    ("topic_sessions:meeting_action", "post:hand.lower"): Case(
        url=lambda c: (c.hands_raised, _meeting_url(c, "hand.lower"))[1],
        ok=302,
        refused=per_role(404, moderator=302),  # no hand raised: told so on the page
        snapshot=_floor,
    ),
    **{("topic_sessions:meeting_action", f"post:{name}"): _moderator_command(name) for name in MODERATOR_COMMANDS},
    ("meeting_join", "get"): Case(url=lambda c: reverse("meeting_join")),
    ("meeting_join_code", "get"): Case(
        url=lambda c: reverse("meeting_join_code", kwargs={"code": c.room.join_code}),
        ok=302,  # straight into the session
        # "this session is for other residents"; another community's code is not theirs to learn
        # of: it answers like a code that does not exist (issue 14, join-code guessing).
        refused=per_role(403, other_resident=404, other_moderator=404),
        secret=_title,
        seen_by=frozenset(),
        check=lambda c, role, allowed, r, client: (
            "" if not allowed or r["Location"] == reverse("topic_sessions:detail", args=[c.world.session.pk]) else r["Location"]
        ),
    ),
    ("meeting_join_qr", "get"): Case(url=lambda c: reverse("meeting_join_qr", kwargs={"code": c.room.join_code})),
    ("meeting_checkin_self", "get"): Case(
        url=lambda c: reverse("meeting_checkin_self", kwargs={"code": c.room.join_code, "token": c.room.checkin_token}),
        refused=per_role(403, other_resident=404, other_moderator=404),  # another community's code: as unknown
        secret=_title,
    ),
    ("meeting_checkin_self", "post"): Case(
        url=lambda c: reverse("meeting_checkin_self", kwargs={"code": c.room.join_code, "token": c.room.checkin_token}),
        ok=302,
        # The moderator sees the session but is not on its roster: told so. Another community's
        # code answers like a code that does not exist.
        refused=per_role(403, moderator=302, other_resident=404, other_moderator=404),
        snapshot=lambda c: list(
            Attendance.objects.filter(checked_in_at__isnull=False).order_by("pk").values_list("user_id", "check_in_method")
        ),
    ),
    ("meeting_projector", "get"): Case(
        url=_projector_url("meeting_projector", token=lambda c: c.room.projector_token), secret=_title, seen_by=frozenset(ROLES)
    ),
    ("meeting_projector", "get:wrong-token"): Case(
        url=_projector_url("meeting_projector", token=lambda c: (c.room, "x" * 32)[1]), anonymous=404, secret=_title
    ),
    ("meeting_projector_checkin_qr", "get"): Case(
        url=_projector_url("meeting_projector_checkin_qr", token=lambda c: c.room.projector_token)
    ),
    ("meeting_projector_checkin_qr", "get:wrong-token"): Case(
        url=_projector_url("meeting_projector_checkin_qr", token=lambda c: (c.room, "x" * 32)[1]), anonymous=404
    ),
}


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == set(CASES)


# The moderator-only meeting commands are tried in one test on one meeting (building a meeting
# is the slow part); every row is still tried by every role from the same state.
COMMAND_ROWS = [("topic_sessions:meeting_action", f"post:{name}") for name in MODERATOR_COMMANDS]
ROWS = [key for key in TABLE if key not in COMMAND_ROWS]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ROWS, ids=[f"{n}-{m}" for n, m in ROWS])
def test_session_view_permissions(ctx: SessionsCtx, key: tuple[str, str]) -> None:
    run_row(ctx, key, TABLE[key], CASES[key])


@pytest.mark.django_db
def test_moderator_meeting_commands_permissions(ctx: SessionsCtx) -> None:
    problems = [problem for key in COMMAND_ROWS for problem in row_problems(ctx, key, TABLE[key], CASES[key])]
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("key", post_only(TABLE), ids=[f"{n}-{m}" for n, m in post_only(TABLE)])
def test_get_on_a_post_only_session_view_changes_nothing(ctx: SessionsCtx, key: tuple[str, str]) -> None:
    run_get_on_post_only(ctx, key, CASES[key])
