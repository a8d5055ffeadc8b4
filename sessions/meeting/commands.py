"""The meeting's actions as one table, shared by the WebSocket handlers and the HTTP views.

A command names its fields and the service it calls; the WebSocket and the no-JavaScript
form send the same names. Moderator-only commands are refused at the edge before any
database work, and the service checks again (it never trusts its caller).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed, Refused
from sessions.meeting import attendance, moderation, services
from sessions.models import TopicSession

MAX_LIST = 50


class Fields:
    """Typed access to a request's fields, from JSON (WebSocket) or a form (HTTP) alike."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def _bad(self, name: str) -> Refused:
        return Refused(_("A field of the request is missing or wrong: %(name)s.") % {"name": name}, code="bad_field")

    def integer(self, name: str, *, required: bool = True) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise self._bad(name)
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not (0 <= value < 2**63):
            raise self._bad(name)
        return value

    def text(self, name: str, *, max_length: int = 500) -> str:
        value = self.data.get(name, "")
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > max_length:
            raise self._bad(name)
        return value

    def integers(self, name: str) -> list[int]:
        value = self.data.get(name)
        if isinstance(value, str | int):
            value = [value]
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise self._bad(name)
        return [Fields({"v": v}).integer("v") or 0 for v in value]


Run = Callable[[TopicSession, Any, Fields], Any]


@dataclass(frozen=True)
class Command:
    name: str
    moderator_only: bool
    run: Run
    done: str | Promise


COMMANDS: dict[str, Command] = {}


def _command(name: str, *, moderator_only: bool, done: str | Promise) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        COMMANDS[name] = Command(name, moderator_only, run, done)
        return run

    return register


@_command("hand.raise", moderator_only=False, done=_("Your hand is raised. The moderator will call you."))
def _hand_raise(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.hand_raise(session=session, user=user)


@_command("hand.lower", moderator_only=False, done=_("Your hand is lowered."))
def _hand_lower(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.hand_lower(session=session, user=user)


@_command("floor.give", moderator_only=True, done=_("The floor was given."))
def _floor_give(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.floor_give(
        session=session,
        by=user,
        request_id=f.integer("request_id", required=False),
        limit_seconds=f.integer("limit_seconds", required=False),
    )


@_command("floor.take", moderator_only=True, done=_("The floor was taken back."))
def _floor_take(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.floor_take(session=session, by=user)


@_command("floor.add", moderator_only=True, done=_("The speaker was added to the queue."))
def _floor_add(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.floor_add(session=session, by=user, name=f.text("name", max_length=200), user_id=f.integer("user_id", required=False))


@_command("floor.dismiss", moderator_only=True, done=_("The request to speak was taken out of the queue."))
def _floor_dismiss(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.floor_dismiss(session=session, by=user, request_id=f.integer("request_id") or 0)


@_command("floor.limit", moderator_only=True, done=_("The time limit per speaker was set."))
def _floor_limit(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.speaker_limit_set(session=session, by=user, seconds=f.integer("seconds") or 0)


@_command("agenda.next", moderator_only=True, done=_("Moved to the next agenda item."))
def _agenda_next(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.agenda_item_start(session=session, by=user)


@_command("agenda.start", moderator_only=True, done=_("The agenda item is now under discussion."))
def _agenda_start(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.agenda_item_start(session=session, by=user, item_id=f.integer("item_id"))


@_command("agenda.add", moderator_only=True, done=_("The agenda item was added."))
def _agenda_add(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.agenda_item_add(
        session=session, by=user, title=f.text("title", max_length=400), planned_minutes=f.integer("planned_minutes", required=False)
    )


@_command("message.pin", moderator_only=True, done=_("The message is pinned."))
def _message_pin(session: TopicSession, user: Any, f: Fields) -> Any:
    return moderation.message_pin(session=session, by=user, message_id=f.integer("message_id") or 0, pinned=True)


@_command("message.unpin", moderator_only=True, done=_("The message is no longer pinned."))
def _message_unpin(session: TopicSession, user: Any, f: Fields) -> Any:
    return moderation.message_pin(session=session, by=user, message_id=f.integer("message_id") or 0, pinned=False)


@_command("message.hide", moderator_only=True, done=_("The message is hidden from residents."))
def _message_hide(session: TopicSession, user: Any, f: Fields) -> Any:
    return moderation.message_hide(
        session=session, by=user, message_id=f.integer("message_id") or 0, reason=f.text("reason", max_length=1000)
    )


@_command("message.unhide", moderator_only=True, done=_("The message is shown again."))
def _message_unhide(session: TopicSession, user: Any, f: Fields) -> Any:
    return moderation.message_unhide(session=session, by=user, message_id=f.integer("message_id") or 0)


@_command("participant.mute", moderator_only=True, done=_("The person is muted."))
def _participant_mute(session: TopicSession, user: Any, f: Fields) -> Any:
    return moderation.participant_mute(
        session=session, by=user, user_id=f.integer("user_id") or 0, muted=True, reason=f.text("reason", max_length=1000)
    )


@_command("participant.unmute", moderator_only=True, done=_("The person can speak again."))
def _participant_unmute(session: TopicSession, user: Any, f: Fields) -> Any:
    return moderation.participant_mute(session=session, by=user, user_id=f.integer("user_id") or 0, muted=False)


@_command("participant.remove", moderator_only=True, done=_("The person was removed from the session."))
def _participant_remove(session: TopicSession, user: Any, f: Fields) -> Any:
    return moderation.participant_remove(
        session=session, by=user, user_id=f.integer("user_id") or 0, reason=f.text("reason", max_length=1000)
    )


@_command("participant.restore", moderator_only=True, done=_("The person may join the session again."))
def _participant_restore(session: TopicSession, user: Any, f: Fields) -> Any:
    return moderation.participant_restore(session=session, by=user, user_id=f.integer("user_id") or 0)


@_command("slow_mode.set", moderator_only=True, done=_("Slow mode was changed."))
def _slow_mode_set(session: TopicSession, user: Any, f: Fields) -> Any:
    return moderation.slow_mode_set(session=session, by=user, seconds=f.integer("seconds") or 0)


@_command("guests.set", moderator_only=True, done=_("The number of guests in the room was saved."))
def _guests_set(session: TopicSession, user: Any, f: Fields) -> Any:
    return attendance.guests_set(session=session, by=user, count=f.integer("count") or 0)


@_command("checkin.record", moderator_only=True, done=_("Checked in."))
def _checkin_record(session: TopicSession, user: Any, f: Fields) -> Any:
    return attendance.checkin_record(session=session, by=user, user_ids=f.integers("user_ids"))


@_command("checkin.undo", moderator_only=True, done=_("The check-in was undone."))
def _checkin_undo(session: TopicSession, user: Any, f: Fields) -> Any:
    return attendance.checkin_undo(session=session, by=user, user_id=f.integer("user_id") or 0)


@_command("projector.rotate", moderator_only=True, done=_("A new projector link was issued; the old one no longer works."))
def _projector_rotate(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.projector_link_rotate(session=session, by=user)


@_command("projector.show", moderator_only=True, done=_("The big screen shows it now."))
def _projector_show(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.projector_show(
        session=session, by=user, screen=f.text("screen", max_length=20), motion_id=f.integer("motion_id", required=False)
    )


@_command("projector.sound", moderator_only=True, done=_("The big screen's sound was changed."))
def _projector_sound(session: TopicSession, user: Any, f: Fields) -> Any:
    return services.projector_sound_set(session=session, by=user, sound=f.text("sound", max_length=5) in ("1", "on", "true"))


def command_run(*, name: str, session_id: int, user: Any, data: Mapping[str, Any], can_moderate: bool | None = None) -> Command:
    """Run one command for ``user``. ``can_moderate`` (known at the edge) refuses early; the service checks anyway."""
    command = COMMANDS.get(name)
    if command is None:
        raise Refused(_("Unknown request."), code="unknown_type")
    if command.moderator_only and can_moderate is False:
        raise NotAllowed(_("Only a moderator of this session can do that."))
    session = TopicSession.objects.filter(pk=session_id).first()
    if session is None:
        raise Refused(_("This session does not exist."), code="not_found")
    command.run(session, user, Fields(data))
    return command
