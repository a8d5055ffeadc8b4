"""Reads for a running meeting: plain, JSON-safe data that pages and live frames render alike."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from agora.infra.isotime import iso_utc
from agora.roster.models import Household, Resident
from agora.roster.names import display_name
from agora.roster.roles import AnyUser
from sessions import rules
from sessions.meeting.rules import floor_elapsed_seconds, floor_remaining_seconds
from sessions.models import (
    AgendaItem,
    Attendance,
    FloorRequest,
    FloorRequestState,
    MeetingRoom,
    ModerationAction,
    Participant,
    Presence,
    SessionState,
    TopicSession,
)
from sessions.selectors import author_labels


def floor_data(*, session: TopicSession) -> dict[str, Any]:
    """Who has the floor (with the timer's numbers) and the queue in order; nobody once the session is not live."""
    now = timezone.now()
    rows = (
        list(
            FloorRequest.objects.filter(session_id=session.pk, state__in=[FloorRequestState.WAITING, FloorRequestState.SPEAKING]).order_by(
                "raised_at", "pk"
            )
        )
        if session.state == SessionState.LIVE
        else []
    )
    labels = author_labels(community_id=session.community_id, user_ids={r.user_id for r in rows if r.user_id})
    room = MeetingRoom.objects.filter(session_id=session.pk).values_list("speaker_limit_seconds", flat=True).first()

    def person(r: FloorRequest) -> dict[str, Any]:
        label = labels.get(r.user_id or 0, {})
        return {
            "id": r.pk,
            "user_id": r.user_id,
            "name": r.name,
            "building": label.get("building", ""),
            "role": label.get("role", ""),
            "in_room": r.in_room,
            "raised_at": iso_utc(r.raised_at),
        }

    speaker = None
    queue: list[dict[str, Any]] = []
    for r in rows:
        if r.state == FloorRequestState.SPEAKING:
            assert r.started_at is not None
            speaker = {
                **person(r),
                "started_at": iso_utc(r.started_at),
                "limit_seconds": r.limit_seconds or 0,
                "elapsed": floor_elapsed_seconds(started_at=r.started_at, now=now),
                "remaining": floor_remaining_seconds(started_at=r.started_at, limit_seconds=r.limit_seconds, now=now),
            }
        else:
            queue.append({**person(r), "position": len(queue) + 1})
    return {
        "session_id": session.pk,
        "state": session.state,
        "at": now.isoformat(),
        "speaker": speaker,
        "queue": queue,
        "queue_user_ids": [q["user_id"] for q in queue if q["user_id"]],
        "default_limit": room or 0,
    }


def agenda_data(*, session: TopicSession) -> dict[str, Any]:
    current_id = TopicSession.objects.filter(pk=session.pk).values_list("current_agenda_item_id", flat=True).first()
    items = [
        {
            "id": item.pk,
            "position": item.position,
            "title": item.title,
            "planned_minutes": item.planned_minutes or 0,
            "state": item.state,
            "started_at": iso_utc(item.started_at),
            "current": item.pk == current_id,
        }
        for item in AgendaItem.objects.filter(session_id=session.pk).order_by("position")
    ]
    current = next((i for i in items if i["current"]), None)
    return {
        "session_id": session.pk,
        "state": session.state,
        "at": timezone.now().isoformat(),
        "items": items,
        "count": len(items),
        "current": current,
        "has_next": any(i["state"] == "pending" for i in items),
    }


def room_for(*, session: TopicSession) -> MeetingRoom | None:
    return MeetingRoom.objects.filter(session_id=session.pk).first()


def join_path(room: MeetingRoom) -> str:
    return reverse("meeting_join_code", kwargs={"code": room.join_code})


def checkin_path(room: MeetingRoom) -> str:
    return reverse("meeting_checkin_self", kwargs={"code": room.join_code, "token": room.checkin_token})


def projector_path(room: MeetingRoom) -> str:
    return reverse("meeting_projector", kwargs={"token": room.projector_token})


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """A QR code for ``url`` as PNG (crisp when scaled up with image-rendering: pixelated)."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def join_qr_path(room: MeetingRoom) -> str:
    return reverse("meeting_join_qr", kwargs={"code": room.join_code})


def attendance_summary(session: TopicSession) -> dict[str, Any]:
    """Each person once, whether online, in the room or both; by building; households counted.

    Online: joined the live session (an Attendance row, kept after the connection closes) or
    connected now (a fresh Presence row). In the room: checked in. ``guests`` are people in the
    room who are not on the roster, counted by the moderator. Used by the minutes.
    """
    rows = list(Attendance.objects.filter(session_id=session.pk).values_list("user_id", "online_at", "checked_in_at"))
    online = {u for u, online_at, _c in rows if online_at is not None}
    online |= set(Presence.objects.filter(session_id=session.pk).values_list("user_id", flat=True))
    in_room = {u for u, _o, checked_in_at in rows if checked_in_at is not None}
    people = online | in_room
    residents = {
        user_id: (building, household_id)
        for user_id, building, household_id in Resident.objects.filter(community_id=session.community_id, user_id__in=people).values_list(
            "user_id", "household__building__name", "household_id"
        )
    }
    by_building: dict[str, dict[str, Any]] = {}
    for user_id in people:
        building, household_id = residents.get(user_id, ("", None))
        row = by_building.setdefault(
            building, {"building": building, "people": 0, "online_only": 0, "in_room_only": 0, "both": 0, "households": set()}
        )
        row["people"] += 1
        if user_id in online and user_id in in_room:
            row["both"] += 1
        elif user_id in online:
            row["online_only"] += 1
        else:
            row["in_room_only"] += 1
        if household_id is not None:
            row["households"].add(household_id)
    households = {h for _b, h in residents.values() if h is not None}
    guests = MeetingRoom.objects.filter(session_id=session.pk).values_list("guests_in_room", flat=True).first() or 0
    both = len(online & in_room)
    return {
        "total": len(people) + guests,
        "people": len(people),
        "online": len(online),
        "in_room": len(in_room) + guests,
        "online_only": len(online - in_room),
        "in_room_only": len(in_room - online),
        "both": both,
        "households": len(households),
        "guests": guests,
        "residents": len(residents),
        "staff_and_guests": len(people) - len(residents),
        "by_building": [
            {**{k: v for k, v in row.items() if k != "households"}, "households": len(row["households"])}
            for _key, row in sorted(by_building.items(), key=lambda kv: (kv[0] == "", kv[0]))
        ],
        "in_person_user_ids": sorted(in_room),
        "in_person_anonymous": guests,
    }


def checkin_search(*, session: TopicSession, query: str, limit: int = 30) -> list[dict[str, Any]]:
    """Households matching a person's name or a room number (楼栋/单元/房间), with their residents."""
    query = (query or "").strip()
    if not query:
        return []
    residents = Resident.objects.filter(community_id=session.community_id)
    match = (
        Q(user__first_name__icontains=query)
        | Q(user__last_name__icontains=query)
        | Q(user__username__iexact=query)
        | Q(household__room__iexact=query)
        | Q(household__building__name__icontains=query)
    )
    # "3号楼-1-502" or "3-1-502": building, unit, room typed together.
    parts = [p for p in query.replace("—", "-").replace(" ", "-").split("-") if p]
    if len(parts) >= 2:
        match |= Q(household__building__name__icontains=parts[0], household__room__iexact=parts[-1])
    household_ids = list(residents.filter(match).values_list("household_id", flat=True).distinct()[:limit])
    checked = set(Attendance.objects.filter(session_id=session.pk, checked_in_at__isnull=False).values_list("user_id", flat=True))
    out: list[dict[str, Any]] = []
    households = Household.objects.filter(pk__in=household_ids).select_related("building").order_by("building__name", "unit", "room")
    for household in households:
        people = [
            {
                "user_id": r.user_id,
                "name": display_name(r.user),
                "tenure": r.get_tenure_display(),
                "checked_in": r.user_id in checked,
                "in_audience": rules.in_audience(user=r.user, session=session),
            }
            for r in residents.filter(household=household).select_related("user").order_by("user__first_name")
        ]
        out.append({"id": household.pk, "label": str(household), "people": people, "all_checked_in": all(p["checked_in"] for p in people)})
    return out


def checked_in_people(*, session: TopicSession) -> list[dict[str, Any]]:
    rows = list(
        Attendance.objects.filter(session_id=session.pk, checked_in_at__isnull=False).select_related("user").order_by("-checked_in_at")
    )
    labels = author_labels(community_id=session.community_id, user_ids={r.user_id for r in rows})
    return [
        {
            "user_id": r.user_id,
            "name": labels[r.user_id]["name"],
            "building": labels[r.user_id]["building"],
            "at": r.checked_in_at,
            "method": r.get_check_in_method_display(),
        }
        for r in rows
    ]


def restricted_participants(*, session: TopicSession) -> list[dict[str, Any]]:
    """Muted or removed people, for the moderator's undo buttons."""
    rows = list(Participant.objects.filter(session_id=session.pk).filter(Q(muted=True) | Q(removed=True)))
    labels = author_labels(community_id=session.community_id, user_ids={r.user_id for r in rows})
    return [
        {
            "user_id": r.user_id,
            "name": labels[r.user_id]["name"],
            "building": labels[r.user_id]["building"],
            "muted": r.muted,
            "removed": r.removed,
        }
        for r in rows
    ]


def moderation_log(*, session: TopicSession, user: AnyUser) -> QuerySet[ModerationAction]:
    """The session's moderation log, for its moderators only (nothing for anyone else)."""
    if not rules.can_moderate(user=user, session=session):
        return ModerationAction.objects.none()
    return ModerationAction.objects.filter(session_id=session.pk).select_related("actor", "target_user", "message").order_by("-at", "-pk")
