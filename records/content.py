"""Builds the minutes content of a session as plain, JSON-safe data (docs/minutes-schema.json).

One function gathers everything a record freezes: attendance, agenda with summaries and
transcript, motions and resolutions, action items. Numbers are integers; decimals and
times are strings, so the canonical JSON has exactly one spelling.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from agora.infra.isotime import iso_utc
from agora.infra.sanitize import rich_text_as_plain
from agora.roster.models import Membership, Resident, Role
from agora.roster.names import display_name
from records import voting_bridge
from records.models import ActionItem, Visibility
from sessions.models import (
    Attendance,
    AttendanceIntent,
    Message,
    Presence,
    SessionState,
    SessionTransition,
    TopicSession,
)

# The version of what is sealed. agora.minutes/1 (until issue 14) left held_on and the
# publisher's account outside the seal, sealed open ballots' voter names, and made the
# transcript with a regex. Records keep the version they were sealed with and are verified
# by its rule (verification.py); docs/decisions.md "Minutes seal, version 2".
SCHEMA_V1 = "agora.minutes/1"
SCHEMA = "agora.minutes/2"


def plain_text(cleaned_html: str) -> str:
    """Stored message HTML (already cleaned) → exactly the text readers saw of it."""
    return rich_text_as_plain(cleaned_html)


def held_on(starts_at: datetime) -> str:
    """The meeting's date in the site's time zone (the archive's held_on column)."""
    return timezone.localdate(starts_at, timezone.get_default_timezone()).isoformat()


def _people(*, session: TopicSession, user_ids: set[int]) -> dict[int, dict[str, str]]:
    """Name, building and role of each person (role from the roster; residents by building)."""
    people: dict[int, dict[str, str]] = {
        u.pk: {"name": display_name(u), "building": "", "role": ""} for u in get_user_model().objects.filter(pk__in=user_ids)
    }
    for user_id, building in Resident.objects.filter(community_id=session.community_id, user_id__in=user_ids).values_list(
        "user_id", "household__building__name"
    ):
        people[user_id].update(building=building, role=Role.RESIDENT)
    for user_id, role in Membership.objects.filter(community_id=session.community_id, user_id__in=user_ids).values_list("user_id", "role"):
        people[user_id]["role"] = role
    for person in people.values():
        person["role"] = person["role"] or Role.OBSERVER  # invited from outside the roster
    return people


def attendance(*, session: TopicSession) -> dict[str, Any]:
    """Who took part, each person once, by building.

    In person: the hybrid-meeting check-ins and the guests the moderator counted in the
    room (sessions.meeting.selectors.attendance_summary), when that module is installed.
    Online: everyone who joined the live session (the meeting module keeps an attendance
    row after the connection closes), posted during the meeting, voted online, or is
    still connected. Whoever checked in is counted in person only, never twice.
    Signed up (报名) is reported on its own: a promise, not attendance.
    """
    in_person_ids, guests, source = _in_person(session=session)
    online_ids = set(Message.objects.filter(session=session, before_start=False).values_list("author_id", flat=True).distinct())
    online_ids |= set(Presence.objects.filter(session=session).values_list("user_id", flat=True).distinct())
    online_ids |= voting_bridge.online_voter_ids(session=session)
    online_ids |= _joined_online(session=session)
    online_ids -= in_person_ids
    people = _people(session=session, user_ids=online_ids | in_person_ids)
    by_building: dict[str, dict[str, int]] = {}
    for mode, ids in (("online", online_ids), ("in_person", in_person_ids)):
        for user_id in ids:
            key = people[user_id]["building"] if people[user_id]["role"] == Role.RESIDENT else ""
            row = by_building.setdefault(key, {"online": 0, "in_person": 0})
            row[mode] += 1
    if guests:
        row = by_building.setdefault("", {"online": 0, "in_person": 0})
        row["in_person"] += guests
    return {
        "online": len(online_ids),
        "in_person": len(in_person_ids) + guests,
        "total": len(online_ids) + len(in_person_ids) + guests,
        "signed_up": AttendanceIntent.objects.filter(session=session).count(),
        "by_building": [{"building": b, "online": n["online"], "in_person": n["in_person"]} for b, n in sorted(by_building.items())],
        "in_person_source": source,
    }


def _in_person(*, session: TopicSession) -> tuple[set[int], int, str]:
    """(checked-in user ids, guests counted in the room, source)."""
    # Imported when called: tests/records/test_generation.py stands its own summary in.
    from sessions.meeting.selectors import attendance_summary

    summary = attendance_summary(session)
    ids = {int(i) for i in summary.get("in_person_user_ids", [])}
    guests = int(summary.get("in_person_anonymous", 0) or 0)
    return ids, guests, "check_in"


def _joined_online(*, session: TopicSession) -> set[int]:
    """People the meeting module recorded as having joined online (kept after they left)."""
    return set(Attendance.objects.filter(session=session, online_at__isnull=False).values_list("user_id", flat=True))


def _adjourned_at(session: TopicSession) -> str | None:
    move = SessionTransition.objects.filter(session=session, to_state=SessionState.ADJOURNED).order_by("-at").first()
    return iso_utc(move.at) if move else None


def transcript(*, session: TopicSession, public: bool) -> tuple[dict[int | None, list[dict[str, Any]]], dict[int | None, int]]:
    """Visible messages per agenda item (None: not tied to one) and the number hidden there.

    In public minutes residents appear by building only, not by name.
    """
    messages = list(Message.objects.filter(session=session).order_by("seq"))
    people = _people(session=session, user_ids={m.author_id for m in messages})
    shown: dict[int | None, list[dict[str, Any]]] = {}
    hidden: dict[int | None, int] = {}
    for m in messages:
        if m.hidden:
            hidden[m.agenda_item_id] = hidden.get(m.agenda_item_id, 0) + 1
            continue
        who = people[m.author_id]
        named = not (public and who["role"] == Role.RESIDENT)
        shown.setdefault(m.agenda_item_id, []).append(
            {
                "seq": m.seq,
                "at": iso_utc(m.created_at),
                "author": who["name"] if named else None,
                "building": who["building"],
                "role": who["role"],
                "before_start": m.before_start,
                "text": plain_text(m.text_html),
            }
        )
    return shown, hidden


def action_items_data(*, session: TopicSession) -> list[dict[str, Any]]:
    return [
        {
            "id": item.pk,
            "what": item.what,
            "responsible": item.responsible,
            "due_on": item.due_on.isoformat() if item.due_on else None,
            "status": item.status,
            "resolution_id": getattr(item, "resolution_id", None),
        }
        for item in ActionItem.objects.filter(session=session).order_by("pk")
    ]


def minutes_content(
    *,
    session: TopicSession,
    summaries: dict[str, str],
    visibility: str,
    published_by: str,
    published_by_id: int,
    published_at: datetime,
    kind: str = "original",
    corrects: dict[str, Any] | None = None,
) -> dict[str, Any]:
    public = visibility == Visibility.PUBLIC
    shown, hidden = transcript(session=session, public=public)
    votes = voting_bridge.session_votes(session=session)
    motions_by_item: dict[int | None, list[int]] = {}
    for motion in votes["motions"]:
        motions_by_item.setdefault(motion.get("agenda_item_id"), []).append(motion["id"])
    agenda: list[dict[str, Any]] = []
    for item in session.agenda_items.order_by("position"):
        agenda.append(
            {
                "id": item.pk,
                "position": item.position,
                "title": item.title,
                "summary": summaries.get(str(item.pk), ""),
                "messages": shown.get(item.pk, []),
                "hidden_count": hidden.get(item.pk, 0),
                "motion_ids": motions_by_item.get(item.pk, []),
            }
        )
    return {
        "schema": SCHEMA,
        "kind": kind,
        "corrects": corrects,
        "community": {"slug": session.community.slug, "name": session.community.name},
        "session": {
            "id": session.pk,
            "title": session.title,
            "category": session.category,
            "place": session.place,
            "starts_at": iso_utc(session.starts_at),
            "adjourned_at": _adjourned_at(session),
            "description": plain_text(session.description),
        },
        "visibility": visibility,
        "attendance": attendance(session=session),
        "general": {
            "summary": summaries.get("general", ""),
            "messages": shown.get(None, []),
            "hidden_count": hidden.get(None, 0),
            "motion_ids": motions_by_item.get(None, []),
        },
        "agenda": agenda,
        "motions": votes["motions"],
        "resolutions": votes["resolutions"],
        "action_items": action_items_data(session=session),
        "held_on": held_on(session.starts_at),
        "published_at": iso_utc(published_at),
        "published_by": published_by,
        "published_by_id": published_by_id,
    }


def outcome_of(content: dict[str, Any]) -> str:
    results = [r.get("outcome") for r in content.get("resolutions", [])]
    if not results:
        return "none"
    passed = sum(1 for r in results if r in {"passed", "winner"})
    if passed == len(results):
        return "passed"
    return "failed" if passed == 0 else "mixed"
