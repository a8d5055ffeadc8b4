"""The XSS corpus through the inputs that the votes, the meeting, the minutes, follow-up and the
needs list add: every page that shows them is re-parsed with an HTML5 parser and must be inert
(tests/security/test_xss.py does the same for the session's own inputs)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agora.infra.errors import Refused
from records import services as minutes
from sessions import services as session_services
from sessions.meeting import moderation
from sessions.meeting import services as meeting
from sessions.models import Message
from tests.factories import World, session_make
from tests.security.test_xss import CORPUS, assert_inert
from voting import services as voting

pytestmark = pytest.mark.django_db


def _quietly(action, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Some payloads clean to nothing and are refused as empty: that is fine here."""
    try:
        return action(*args, **kwargs)
    except Refused:
        return None


@pytest.mark.parametrize("payload", CORPUS)
def test_payload_is_inert_in_votes_meeting_minutes_follow_up_and_needs(world: World, payload: str) -> None:
    mod, res = world.moderator, world.resident
    session = session_make(world.community, mod, audience=[world.car_owner], title=f"议题 {payload}"[:120])
    room = meeting.meeting_room_ensure(session=session)
    _quietly(voting.motion_create, session=session, by=mod, text=payload[:500], description=payload)  # stays a draft
    choice = voting.motion_create(
        session=session,
        by=mod,
        text=f"选址 {payload}"[:500],
        description=payload,
        settings=voting.MotionSettings(kind="single", secret=False, options=(f"东门 {payload}"[:200], "西门")),
    )
    voting.motion_open(motion=choice, by=mod)  # residents see the ballot with the options
    _quietly(meeting.agenda_item_add, session=session, by=mod, title=payload[:400])
    _quietly(meeting.floor_add, session=session, by=mod, name=payload[:200])
    message = session_services.message_post(session=session, author=res, text=f"看 {payload}")
    _quietly(moderation.message_hide, session=session, by=mod, message_id=message.pk, reason=f"跑题 {payload}")
    need = _quietly(minutes.need_submit, community=world.community, by=res, text=f"东门 {payload}"[:1000])

    moderator, resident, visitor = Client(), Client(), Client()
    moderator.force_login(mod)
    resident.force_login(res)
    pages = [
        (moderator, reverse("topic_sessions:detail", args=[session.pk])),
        (resident, reverse("topic_sessions:detail", args=[session.pk])),
        (visitor, reverse("meeting_projector", args=[room.projector_token])),
        (moderator, reverse("topic_sessions:meeting_log", args=[session.pk])),
        (resident, reverse("needs:list", args=[world.community.slug])),
    ]
    if need is not None:
        pages.append((resident, reverse("needs:detail", args=[need.pk])))

    voting.motion_close(motion=choice, by=mod)  # the resolution names the options
    pages.append((resident, reverse("topic_sessions:detail", args=[session.pk])))
    session_services.topic_session_adjourn(session=session, by=mod)
    minutes.minutes_draft_save(session=session, by=mod, summaries={"general": f"总结 {payload}"}, visibility="public")
    item = _quietly(
        minutes.action_item_create,
        session=session,
        by=mod,
        what=f"划线 {payload}",
        responsible=f"物业 {payload}"[:120],
        due_on=timezone.localdate() + timedelta(days=7),
    )
    _check(moderator, reverse("minutes:draft", args=[session.pk]), payload)  # a draft's page exists until it is published
    record = minutes.minutes_publish(session=session, by=mod)
    pages += [
        (visitor, reverse("minutes:detail", args=[record.pk])),
        (visitor, reverse("minutes:print", args=[record.pk])),
        (visitor, reverse("archive:list") + "?" + urlencode({"q": payload[:100]})),
        (visitor, reverse("archive:list")),
        (moderator, reverse("minutes:follow_up")),
    ]
    if item is not None:
        minutes.action_item_update(item=item, by=mod, note=f"进展 {payload}")
        pages.append((resident, reverse("minutes:action_item", args=[item.pk])))

    for client, url in pages:
        _check(client, url, payload)
    assert Message.objects.filter(pk=message.pk, hidden=True).exists()


def _check(client: Client, url: str, payload: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    assert_inert(response.content.decode(), where=f"{url} {payload!r}", page=True)
