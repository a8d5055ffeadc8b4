"""Permission table for the live WebSocket: every message type against the seven roles, refusals change nothing.

Issue 7. ``TABLE`` says who may send each message type of ``sessions.live.registry.HANDLERS``
(the meeting commands of ``sessions.meeting.commands.COMMANDS`` are message types too); ``CASES``
says how to try it: what to prepare so that the request is valid, which reply an allowed sender
gets, which refusal code a refused one gets, and whether an allowed request changes the database.

Only the world's audience, its invited observer and its moderators open the connection at all:
the other four roles are refused at connect (closed with 4403) and nothing is written. Each of
the three that connect tries every row over one connection (one transactional test per role),
each request on state prepared just for it, so the order of the rows does not matter:

* allowed: no ``error`` frame, the expected reply, and the database changed (or, for reads,
  did not change);
* refused: an ``error`` frame with the refusal code, and the database did not change.

A new handler without a row fails ``test_every_handler_has_a_row``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AbstractBaseUser

from agora.asgi import application
from sessions import services as session_services
from sessions.consumers import CLOSE_REFUSED
from sessions.live.registry import HANDLERS
from sessions.meeting import attendance, moderation
from sessions.meeting import services as meeting_services
from sessions.meeting.commands import COMMANDS
from sessions.models import (
    Attendance,
    FloorRequest,
    FloorRequestState,
    Message,
    Participant,
    Presence,
    Reaction,
    TopicSession,
)
from tests.factories import World, resident_make
from tests.sessions.live_helpers import connect, session_cookie
from tests.sessions.meeting_helpers import fingerprint, meeting_make
from tests.voting.helpers import key, open_motion, option
from voting import services as voting_services
from voting.models import Ballot, InPersonCount, Motion, Participation, Resolution

ROLES = ["anonymous", "other_resident", "outsider", "observer", "resident", "other_moderator", "moderator"]
# Who opens the live connection of the world's session (sessions.rules.can_join_live): its
# audience (car owners), its invited observer and the community's moderators.
CONNECTS = frozenset({"observer", "resident", "moderator"})
REFUSED_AT_CONNECT = [role for role in ROLES if role not in CONNECTS]

MODERATOR_COMMANDS = sorted(name for name, command in COMMANDS.items() if command.moderator_only)

# message type -> the roles allowed; every other role is refused.
TABLE: dict[str, frozenset[str]] = {
    "hello": CONNECTS,
    "ping": CONNECTS,
    "meeting.sync": CONNECTS,
    "attendance.sync": frozenset({"moderator"}),  # the moderators' attendance panel
    "message.post": CONNECTS,  # observers may be given the floor: they post too
    "reaction.set": CONNECTS,
    # sessions.meeting.rules.can_raise_hand is can_post while live: moderators pass it too,
    # and whoever raised a hand may lower it.
    "hand.raise": CONNECTS,
    "hand.lower": CONNECTS,
    **{name: frozenset({"moderator"}) for name in MODERATOR_COMMANDS},
    "motion.open": frozenset({"moderator"}),
    "motion.close": frozenset({"moderator"}),
    "motion.status": CONNECTS,  # an opened motion is seen by whoever sees the session
    # Observers never vote; the world's moderator is staff, not a resident with a household.
    "ballot.cast": frozenset({"resident"}),
}


class LiveCtx:
    """One role's world: the live meeting in full swing, and fresh state for each request."""

    def __init__(self, world: World, role: str) -> None:
        self.world = world
        self.role = role
        self.session: TopicSession = world.session
        self.mod = world.moderator
        self.meeting = meeting_make(world)
        self._n = itertools.count(1)

    @property
    def user(self) -> AbstractBaseUser:
        return getattr(self.world, self.role)

    def n(self) -> int:
        return next(self._n)

    def person(self) -> AbstractBaseUser:
        """A new resident in the session's audience (a target that nothing else touches)."""
        return resident_make(self.world.community, tags=[self.world.car_owner], building="6号楼")

    def message(self) -> Message:
        # Posted by the moderator: no rate limit or slow mode gets in the way.
        return session_services.message_post(session=self.session, author=self.mod, text=f"权限表发言{self.n()}")

    def queued(self) -> FloorRequest:
        return meeting_services.floor_add(session=self.session, by=self.mod, name=f"排队的人{self.n()}")

    def draft_motion(self) -> Motion:
        return voting_services.motion_create(
            session=self.session, by=self.mod, text=f"权限表议案{self.n()}", settings=voting_services.MotionSettings()
        )

    def open_motion(self) -> Motion:
        return open_motion(self.session, self.mod, text=f"权限表表决{self.n()}")

    def own_hand(self, *, raised: bool) -> None:
        waiting = FloorRequest.objects.filter(session=self.session, user=self.user, state=FloorRequestState.WAITING)
        if raised and not waiting.exists():
            meeting_services.hand_raise(session=self.session, user=self.user)
        if not raised and waiting.exists():
            meeting_services.hand_lower(session=self.session, user=self.user)


def _pinned(c: LiveCtx) -> Message:
    m = c.message()
    moderation.message_pin(session=c.session, by=c.mod, message_id=m.pk)
    return m


def _hidden(c: LiveCtx) -> Message:
    m = c.message()
    moderation.message_hide(session=c.session, by=c.mod, message_id=m.pk, reason="广告")
    return m


def _muted(c: LiveCtx) -> AbstractBaseUser:
    person = c.person()
    moderation.participant_mute(session=c.session, by=c.mod, user_id=person.pk)
    return person


def _removed(c: LiveCtx) -> AbstractBaseUser:
    person = c.person()
    moderation.participant_remove(session=c.session, by=c.mod, user_id=person.pk)
    return person


def _checked_in(c: LiveCtx) -> AbstractBaseUser:
    person = c.person()
    attendance.checkin_record(session=c.session, by=c.mod, user_ids=[person.pk])
    return person


def _speaking(c: LiveCtx) -> dict[str, Any]:
    meeting_services.floor_give(session=c.session, by=c.mod, request_id=c.queued().pk)
    return {}


def _agenda_item(c: LiveCtx) -> int:
    return meeting_services.agenda_item_add(session=c.session, by=c.mod, title=f"后加的议程{c.n()}").pk


def _ballot(c: LiveCtx) -> dict[str, Any]:
    motion = c.open_motion()
    return {"motion_id": motion.pk, "choice": [option(motion, "yes")], "idempotency_key": key()}


def _hand(raised: bool) -> Callable[[LiveCtx], dict[str, Any]]:
    def prepare(c: LiveCtx) -> dict[str, Any]:
        c.own_hand(raised=raised)
        return {}

    return prepare


@dataclass(frozen=True)
class Case:
    """How to try one row. ``prepare`` builds what the request needs (in a worker thread) and
    returns its fields; ``reply`` is the frame type an allowed sender gets back (None: no direct
    reply); ``changes``: an allowed request changes the database (False: a read, changes nothing);
    ``refused`` is the error code of a refusal (one, or one per role)."""

    prepare: Callable[[LiveCtx], dict[str, Any]] = field(default=lambda c: {})
    reply: str | None = "meeting.ack"
    changes: bool = True
    refused: str | Mapping[str, str] = "forbidden"


CASES: dict[str, Case] = {
    "hello": Case(prepare=lambda c: {"last_seq": 0}, reply="synced", changes=False),
    "ping": Case(reply="pong", changes=False),  # touches only the presence row's last_seen
    "meeting.sync": Case(reply="agenda", changes=False),
    "attendance.sync": Case(reply="attendance", changes=False),
    "message.post": Case(prepare=lambda c: {"text": "权限表：我也说一句"}, reply="message.ack"),
    "reaction.set": Case(prepare=lambda c: {"message_id": c.message().pk, "kind": "agree"}, reply=None),  # answered by broadcast
    "hand.raise": Case(prepare=_hand(raised=False)),
    "hand.lower": Case(prepare=_hand(raised=True)),
    "floor.give": Case(prepare=lambda c: {"request_id": c.queued().pk, "limit_seconds": 90}),
    "floor.take": Case(prepare=_speaking),
    "floor.add": Case(prepare=lambda c: {"name": f"李四{c.n()}"}),
    "floor.dismiss": Case(prepare=lambda c: {"request_id": c.queued().pk}),
    "floor.limit": Case(prepare=lambda c: {"seconds": 120}),
    "agenda.next": Case(prepare=lambda c: (_agenda_item(c), {})[1]),
    "agenda.start": Case(prepare=lambda c: {"item_id": _agenda_item(c)}),
    "agenda.add": Case(prepare=lambda c: {"title": f"新议程{c.n()}"}),
    "message.pin": Case(prepare=lambda c: {"message_id": c.message().pk}),
    "message.unpin": Case(prepare=lambda c: {"message_id": _pinned(c).pk}),
    "message.hide": Case(prepare=lambda c: {"message_id": c.message().pk, "reason": "不文明"}),
    "message.unhide": Case(prepare=lambda c: {"message_id": _hidden(c).pk}),
    "participant.mute": Case(prepare=lambda c: {"user_id": c.person().pk, "reason": "刷屏"}),
    "participant.unmute": Case(prepare=lambda c: {"user_id": _muted(c).pk}),
    "participant.remove": Case(prepare=lambda c: {"user_id": c.person().pk, "reason": "捣乱"}),
    "participant.restore": Case(prepare=lambda c: {"user_id": _removed(c).pk}),
    "slow_mode.set": Case(prepare=lambda c: {"seconds": 30}),
    "guests.set": Case(prepare=lambda c: {"count": 7}),
    "checkin.record": Case(prepare=lambda c: {"user_ids": [c.person().pk]}),
    "checkin.undo": Case(prepare=lambda c: {"user_id": _checked_in(c).pk}),
    "projector.rotate": Case(),
    "projector.show": Case(prepare=lambda c: {"screen": "agenda" if c.n() % 2 else "join"}),
    "projector.sound": Case(prepare=lambda c: {"sound": "1" if c.n() % 2 else "0"}),
    # A draft motion is the moderators' own: everyone else is told it is not in the session.
    "motion.open": Case(prepare=lambda c: {"motion_id": c.draft_motion().pk}, reply="motion.ack", refused="not_found"),
    "motion.close": Case(prepare=lambda c: {"motion_id": c.open_motion().pk}, reply="motion.ack"),
    "motion.status": Case(prepare=lambda c: {"motion_id": c.open_motion().pk}, reply="motion.status", changes=False),
    "ballot.cast": Case(prepare=_ballot, reply="ballot.receipt", refused="not_eligible"),
}


def snapshot(session: TopicSession) -> dict[str, Any]:
    """Everything a live request could change, as plain comparable values (presence excluded:
    a ping refreshes it, and it says nothing about permissions)."""
    motions = Motion.objects.filter(session=session)
    return {
        **fingerprint(session),
        "session_row": TopicSession.objects.filter(pk=session.pk).values_list("state", "last_seq", "current_agenda_item_id").get(),
        "floor_full": list(
            FloorRequest.objects.filter(session=session).order_by("pk").values_list("pk", "user_id", "state", "started_at", "ended_at")
        ),
        "messages_full": list(
            Message.objects.filter(session=session).order_by("pk").values_list("pk", "seq", "author_id", "text_html", "reply_to_id")
        ),
        "reactions": list(Reaction.objects.filter(message__session=session).order_by("pk").values_list("message_id", "user_id", "kind")),
        "motions": list(motions.order_by("pk").values_list("pk", "state", "opened_at", "closed_at")),
        "ballots": Ballot.objects.filter(motion__in=motions).count(),
        "participations": list(
            Participation.objects.filter(motion__in=motions).order_by("pk").values_list("motion_id", "unit_key", "changes")
        ),
        "in_person": InPersonCount.objects.filter(motion__in=motions).count(),
        "resolutions": list(Resolution.objects.filter(motion__in=motions).order_by("pk").values_list("motion_id", "outcome")),
    }


async def try_request(comm: WebsocketCommunicator, message_type: str, fields: dict[str, Any], client_id: str) -> list[dict[str, Any]]:
    """Send one request, then a ping; return every frame up to that pong.

    The consumer answers its requests in order, so the request's reply or error frame comes
    before the marker's pong (broadcasts may arrive around them)."""
    await comm.send_json_to({**fields, "type": message_type, "client_id": client_id})
    await comm.send_json_to({"type": "ping"})
    pongs = 2 if message_type == "ping" else 1
    frames: list[dict[str, Any]] = []
    while pongs:
        frame = await comm.receive_json_from(timeout=10)
        frames.append(frame)
        if frame["type"] == "pong":
            pongs -= 1
    return frames


async def try_row(ctx: LiveCtx, comm: WebsocketCommunicator, message_type: str, n: int) -> list[str]:
    case, role = CASES[message_type], ctx.role
    allowed = role in TABLE[message_type]
    fields = await database_sync_to_async(case.prepare)(ctx)
    before = await database_sync_to_async(snapshot)(ctx.session)
    frames = await try_request(comm, message_type, fields, f"perm-{n}")
    after = await database_sync_to_async(snapshot)(ctx.session)
    errors = [f for f in frames if f["type"] == "error"]
    mine = [f for f in errors if f.get("client_id") == f"perm-{n}"]
    problems = [f"an error frame for another request: {f}" for f in errors if f not in mine]
    if allowed:
        if mine:
            problems.append(f"allowed, but refused: {mine[0]['code']} {mine[0]['message']!r}")
        elif case.reply and not any(f["type"] == case.reply for f in frames):
            problems.append(f"allowed: no {case.reply!r} reply in {[f['type'] for f in frames]}")
        if case.changes and after == before:
            problems.append("allowed, but nothing changed")
        if not case.changes and after != before:
            changed = sorted(k for k in before if before[k] != after[k])
            problems.append(f"a read, but the data changed in {changed}:\n  before {before}\n  after  {after}")
    else:
        expected = case.refused if isinstance(case.refused, str) else case.refused[role]
        if not mine:
            problems.append(f"refused: expected an error frame {expected!r}, got {[f['type'] for f in frames]}")
        elif mine[0]["code"] != expected or mine[0].get("request_type") != message_type:
            problems.append(f"refused: expected error {expected!r} for {message_type!r}, got {mine[0]}")
        if case.reply and any(f["type"] == case.reply and f.get("client_id") == f"perm-{n}" for f in frames):
            problems.append(f"refused, but got a {case.reply!r} reply")
        if after != before:
            changed = sorted(k for k in before if before[k] != after[k])
            problems.append(f"refused, but the data changed in {changed}:\n  before {before}\n  after  {after}")
    return [f"{message_type} as {role}: {p}" for p in problems]


def test_every_handler_has_a_row() -> None:
    """A new WebSocket handler (or meeting command) without a row here fails."""
    assert set(HANDLERS) - set(TABLE) == set(), "handlers without a row in TABLE"
    assert set(TABLE) - set(HANDLERS) == set(), "rows in TABLE for handlers that do not exist"
    assert set(COMMANDS) <= set(TABLE), "meeting commands without a row in TABLE"
    assert set(CASES) == set(TABLE)
    for message_type, allowed in TABLE.items():
        assert allowed <= CONNECTS, f"{message_type}: only connected roles can be allowed anything"
        if message_type in COMMANDS and COMMANDS[message_type].moderator_only:
            assert allowed == {"moderator"}, f"{message_type} is moderator-only in COMMANDS"


def _admission_rows(session: TopicSession) -> dict[str, Any]:
    return {
        "presence": list(Presence.objects.filter(session=session).values_list("user_id", flat=True)),
        "attendance": list(Attendance.objects.filter(session=session).order_by("pk").values_list("user_id", "online_at", "checked_in_at")),
        "participants": list(Participant.objects.filter(session=session).order_by("pk").values_list("user_id", "muted", "removed")),
        "messages": Message.objects.filter(session=session).count(),
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_roles_outside_the_session_are_refused_at_connect(tx_world: World) -> None:
    """Anonymous visitors, residents of another community, residents outside the audience and
    moderators of another community never get a connection: no request of theirs reaches a handler."""
    session = tx_world.session
    problems: list[str] = []
    for role in REFUSED_AT_CONNECT:
        user = None if role == "anonymous" else getattr(tx_world, role)
        before = await database_sync_to_async(_admission_rows)(session)
        cookie = await database_sync_to_async(session_cookie)(user)
        headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        comm = WebsocketCommunicator(application, f"/ws/sessions/{session.pk}/", headers=headers)
        ok, code = await comm.connect(timeout=5)
        if ok:
            problems.append(f"connect as {role}: accepted")
            await comm.disconnect()
        elif code != CLOSE_REFUSED:
            problems.append(f"connect as {role}: closed with {code}, expected {CLOSE_REFUSED}")
        after = await database_sync_to_async(_admission_rows)(session)
        if after != before:
            problems.append(f"connect as {role}: refused, but the data changed:\n  before {before}\n  after  {after}")
    # The same connect for the three that may join is accepted (the refusal above is not the origin check).
    for role in sorted(CONNECTS):
        comm, ok = await connect(getattr(tx_world, role), session.pk, hello=None)
        if not ok:
            problems.append(f"connect as {role}: refused")
        else:
            await comm.disconnect()
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("role", sorted(CONNECTS))
async def test_live_permissions(tx_world: World, role: str) -> None:
    """The role tries every row of TABLE over one connection."""
    ctx = await database_sync_to_async(LiveCtx)(tx_world, role)
    comm, ok = await connect(ctx.user, ctx.session.pk)
    assert ok, f"connect as {role}: refused"
    problems: list[str] = []
    try:
        for n, message_type in enumerate(TABLE):
            problems += await try_row(ctx, comm, message_type, n)
    finally:
        await comm.disconnect()
    assert not problems, "\n".join(problems)
