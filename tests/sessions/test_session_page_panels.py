"""The session page is built by its view from registered panels; the template only renders.

A GET writes nothing (the meeting room is made when the session leaves draft), the panels'
fragments render without a query, the page asks the database no more than it did, and what the
projector shows is decided in one table that the socket filter and the page's script both use."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions import services as session_services
from sessions.meeting import projector as screen
from sessions.meeting import services
from sessions.models import MeetingRoom, SessionState
from sessions.panels import PANELS, Panel, Viewer, page_context, panel_register
from tests.factories import World, session_make
from tests.sessions.live_helpers import connect, drain, receive_until
from tests.sessions.meeting_helpers import meeting_make
from tests.voting.helpers import open_motion

ROOT = Path(__file__).resolve().parents[2]
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)

# Queries of one GET of the session page (a live meeting: agenda, floor and queue, pinned and
# hidden messages, muted and removed people, an open vote), as measured when the panels came.
# Before them (the template tags reading on their own, the rules asked again by each): moderator
# 40, resident 36, observer 35; and a resident's first GET of a room-less session wrote the room.
# Owners' decisions add 2 to each: the room's decisions panel (linked open decisions) and the
# reminder banner of base.html (voting/decisions/pages), one query each.
# The console's next step (sessions/meeting/console.py) adds 5 for the moderator: the session's
# transitions (an adjourn still undoable), the agenda's states, its current item, and whether a
# minutes draft or record exists — each one query, none per message.
QUERY_CEILING = {"moderator": 44, "resident": 34, "observer": 33}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(world: World) -> str:
    return reverse("topic_sessions:detail", args=[world.session.pk])


@pytest.fixture
def meeting(world: World) -> World:
    meeting_make(world)
    open_motion(world.session, world.moderator)
    return world


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["resident", "observer", "moderator"])
def test_a_get_of_the_session_page_writes_nothing_and_stays_under_its_query_ceiling(meeting: World, who: str) -> None:
    client = client_for(getattr(meeting, who))
    for _first_and_second in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page_url(meeting))
        assert response.status_code == 200
        assert [q["sql"] for q in queries.captured_queries if WRITE.match(q["sql"])] == []
        assert len(queries.captured_queries) <= QUERY_CEILING[who], f"{len(queries.captured_queries)} queries"
    page = response.content.decode()
    assert 'id="join-code"' in page and MeetingRoom.objects.get(session=meeting.session).join_code in page


@pytest.mark.django_db
def test_the_panels_render_without_asking_the_database(meeting: World) -> None:
    for who in ("resident", "moderator"):
        request = RequestFactory().get(page_url(meeting))
        request.user = getattr(meeting, who)
        request.session = {}  # type: ignore[assignment]
        context = page_context(Viewer(request, meeting.session))
        names = [shown.name for shown in context["panels"]]
        assert names[:1] == ["agenda"] and "votes" in names and names[-2:] == ["meeting", "discussion"]
        assert ("moderator" in names) == (who == "moderator")
        with CaptureQueriesContext(connection) as queries:
            html = Template("{% load panels %}{% for shown in panels %}{% panel shown %}{% endfor %}").render(
                Context({**context, "request": request, "user": request.user, "csrf_token": "t"})
            )
        assert queries.captured_queries == []
        assert "普通发言" in html and "东门夜间划线停车" in html and "张三" in html


@pytest.mark.django_db
def test_the_meeting_room_is_made_when_the_session_leaves_draft(world: World) -> None:
    # The live session was made live at creation: its room is there before anybody looks.
    room = MeetingRoom.objects.get(session=world.session)
    resident = client_for(world.resident)
    with CaptureQueriesContext(connection) as queries:
        page = resident.get(page_url(world)).content.decode()
    assert room.join_code in page and not [q for q in queries.captured_queries if WRITE.match(q["sql"])]
    draft = session_make(world.community, world.moderator, state=SessionState.DRAFT, title="下周的议题")
    assert not MeetingRoom.objects.filter(session=draft).exists()
    assert "join-code" not in client_for(world.moderator).get(reverse("topic_sessions:detail", args=[draft.pk])).content.decode()
    assert not MeetingRoom.objects.filter(session=draft).exists()  # the moderator's GET made none either
    session_services.topic_session_schedule(session=draft, by=world.moderator)
    room = MeetingRoom.objects.get(session=draft)
    assert room.join_code in client_for(world.resident).get(reverse("topic_sessions:detail", args=[draft.pk])).content.decode()
    session_services.topic_session_open(session=draft, by=world.moderator)
    assert MeetingRoom.objects.get(session=draft).pk == room.pk


@pytest.mark.django_db
def test_a_panel_registered_by_an_app_is_shown_to_whom_it_says_in_its_place(world: World) -> None:
    panel = Panel(
        name="test-notice",
        order=65,  # between the meeting and the discussion
        template="sessions/partials/_presence.html",
        build=lambda viewer: {"presence": {"count": 4242}},
        visible=lambda viewer: viewer.moderator,
    )
    panel_register(panel)
    try:
        panel_register(panel)  # an app's ready run again: the same panel is kept
        with pytest.raises(RuntimeError):
            panel_register(Panel(name="test-notice", order=1, template="x.html", build=lambda viewer: {}))
        moderator_page = client_for(world.moderator).get(page_url(world)).content.decode()
        assert "4242" in moderator_page
        assert moderator_page.index('id="meeting"') < moderator_page.index("4242") < moderator_page.index('id="discussion"')
        assert "4242" not in client_for(world.resident).get(page_url(world)).content.decode()
    finally:
        del PANELS["test-notice"]


def test_the_apps_above_sessions_registered_their_panels_at_ready() -> None:
    assert PANELS["votes"].build.__module__ == "voting.panels"
    assert PANELS["minutes"].build.__module__ == "records.panels"
    orders = [p.order for p in PANELS.values()]
    assert len(orders) == len(set(orders))


# --- the projector: one list -----------------------------------------------------------------


def test_the_screen_never_shows_the_discussion_nor_what_is_meant_for_moderators() -> None:
    for kind in ("message", "message.updated", "reaction", "attendance", "participant.status", "slow_mode"):
        assert not screen.screen_shows({"kind": kind})
    assert screen.screen_shows({"kind": "floor"}) and screen.screen_shows({"kind": "tally", "audience": "all"})
    assert not screen.screen_shows({"kind": "tally", "audience": "moderators"})


@pytest.mark.django_db
def test_the_projector_page_hands_its_script_the_servers_list(world: World) -> None:
    room = MeetingRoom.objects.get(session=world.session)
    page = Client().get(f"/projector/{room.projector_token}/").content.decode()
    attribute = re.search(r'data-screen-kinds="([^"]*)"', page)
    assert attribute is not None and json.loads(unescape(attribute.group(1))) == screen.SCREEN_KINDS
    # The script keeps no list of its own: it names the actions, never a frame type.
    projector_part = (ROOT / "static/js/projector.js").read_text()
    actions = projector_part[projector_part.index("var actions = {") :]
    for action in set(screen.SCREEN_KINDS.values()):
        assert re.search(rf"\b{re.escape(action)}: (function|\w+,)", actions), action
    # No table of kinds of its own (the old one: { "tally": 1, "motion.opened": 1, … }).
    kinds = "|".join(re.escape(k) for k in screen.SCREEN_KINDS)
    assert not re.search(rf'["\']({kinds})["\']\s*:', projector_part)
    assert "screenKinds[frame.type]" in projector_part and "dataset.screenKinds" in projector_part


@pytest.mark.django_db(transaction=True)
async def test_a_message_never_reaches_the_projector_socket(tx_world: World) -> None:
    from channels.testing import WebsocketCommunicator

    from agora.asgi import application

    room = await database_sync_to_async(MeetingRoom.objects.get)(session=tx_world.session)
    wall = WebsocketCommunicator(
        application, f"/ws/projector/{room.projector_token}/", headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )
    ok, _ = await wall.connect(timeout=5)
    assert ok
    await drain(wall, 0.3)
    alice, _ = await connect(tx_world.resident, tx_world.session.pk)
    await alice.send_json_to({"type": "message.post", "text": "只给在场的人看", "client_id": "p1"})
    await receive_until(alice, "message.ack")
    await database_sync_to_async(services.hand_raise)(session=tx_world.session, user=tx_world.resident2)
    frames = await drain(wall, 0.6)
    assert "floor" in [f["type"] for f in frames]  # the wall follows the room…
    assert all(f["type"] in screen.SCREEN_KINDS for f in frames)
    assert all("只给在场的人看" not in json.dumps(f, ensure_ascii=False) for f in frames)  # …but not its discussion
    for comm in (alice, wall):
        await comm.disconnect()


def test_no_template_tag_of_the_session_page_reads_the_database() -> None:
    """The tag libraries the page loads call no selector, service or manager."""
    for path in ("sessions/templatetags/meeting.py", "sessions/templatetags/panels.py", "voting/templatetags/voting_tags.py"):
        source = (ROOT / path).read_text()
        assert not re.search(r"^from \S*(selectors|services)\b|\.objects\b|_ensure\(", source, re.M), path
