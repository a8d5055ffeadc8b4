"""Meeting pages over plain HTTP: every moderator action refused to residents and observers and
changing nothing; join codes, check-in, the projector page, the moderation log."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from django.test import Client
from django.urls import reverse

from sessions.meeting import services
from sessions.meeting.commands import COMMANDS
from sessions.models import (
    Attendance,
    CheckInMethod,
    FloorRequest,
    ModerationAction,
    SessionState,
)
from tests.factories import World
from tests.sessions.meeting_helpers import fingerprint, meeting_make, moderator_actions

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def action_url(session_id: int, action: str) -> str:
    return reverse("topic_sessions:meeting_action", args=[session_id, action])


def test_the_table_covers_every_moderator_command(world: World) -> None:
    meeting = meeting_make(world)
    moderator_only = {name for name, c in COMMANDS.items() if c.moderator_only}
    assert set(moderator_actions(meeting)) == moderator_only
    assert {name for name, c in COMMANDS.items() if not c.moderator_only} == {"hand.raise", "hand.lower"}


@pytest.mark.parametrize("who", ["resident", "observer"])
@pytest.mark.parametrize("action", sorted(name for name, c in COMMANDS.items() if c.moderator_only))
def test_residents_and_observers_are_refused_every_moderator_action_over_http(world: World, who: str, action: str) -> None:
    meeting = meeting_make(world)
    before = fingerprint(world.session)
    response = as_user(getattr(world, who)).post(action_url(world.session.pk, action), moderator_actions(meeting)[action])
    assert response.status_code == 403
    assert "只有本场的主持人" in response.content.decode()
    assert fingerprint(world.session) == before


@pytest.mark.parametrize("action", sorted(name for name, c in COMMANDS.items() if c.moderator_only))
def test_the_same_requests_succeed_for_the_moderator(world: World, action: str) -> None:
    meeting = meeting_make(world)
    before = fingerprint(world.session)
    response = as_user(world.moderator).post(action_url(world.session.pk, action), moderator_actions(meeting)[action])
    assert response.status_code == 302
    after = fingerprint(world.session)
    assert after != before and after["log"] == before["log"] + 1


def test_a_refusal_is_a_clear_sentence_and_keeps_the_page(world: World) -> None:
    client = as_user(world.moderator)
    response = client.post(action_url(world.session.pk, "message.hide"), {"message_id": "999999", "reason": "x"}, follow=True)
    assert response.status_code == 200
    assert "这条发言不在本场" in response.content.decode()


def test_unknown_actions_and_outsiders_get_404(world: World) -> None:
    assert as_user(world.moderator).post(action_url(world.session.pk, "nope")).status_code == 404
    assert as_user(world.outsider).post(action_url(world.session.pk, "floor.take")).status_code == 404
    assert as_user(world.other_moderator).post(action_url(world.session.pk, "floor.take")).status_code == 404


def test_a_resident_raises_and_lowers_a_hand_without_javascript(world: World) -> None:
    client = as_user(world.resident)
    client.post(action_url(world.session.pk, "hand.raise"))
    assert FloorRequest.objects.filter(user=world.resident, state="waiting").exists()
    page = client.get(reverse("topic_sessions:detail", args=[world.session.pk])).content.decode()
    assert f'id="hand-raise-form" method="post" action="/sessions/{world.session.pk}/meeting/hand.raise/" hidden' in page
    client.post(action_url(world.session.pk, "hand.lower"))
    assert not FloorRequest.objects.filter(user=world.resident, state="waiting").exists()


def test_the_session_page_shows_the_floor_the_agenda_and_tools_by_role(world: World) -> None:
    meeting_make(world)
    url = reverse("topic_sessions:detail", args=[world.session.pk])
    resident = as_user(world.resident).get(url).content.decode()
    moderator = as_user(world.moderator).get(url).content.decode()
    for page in (resident, moderator):
        assert "正在发言" in page and "res2" in page and "议程 1 / 3" in page
        assert "张三" in page
    assert "被隐藏的发言" not in resident and "被隐藏的发言" in moderator and "广告" in moderator
    assert "举手发言" in resident and "举手发言" not in moderator
    for tool in ("floor.give", "message.hide", "participant.mute", "slow_mode.set", "checkin/", "log/"):
        assert tool in moderator and tool not in resident


# --- join codes and check-in ------------------------------------------------------------


def test_typing_or_scanning_the_code_goes_straight_into_the_session(world: World) -> None:
    room = services.meeting_room_ensure(session=world.session)
    client = as_user(world.resident)
    typed = client.get(reverse("meeting_join"), {"code": room.join_code.lower()[:3] + "-" + room.join_code.lower()[3:]})
    assert typed.status_code == 302 and typed["Location"] == f"/j/{room.join_code}/"
    scanned = client.get(f"/j/{room.join_code}/")
    assert scanned.status_code == 302 and scanned["Location"] == f"/sessions/{world.session.pk}/"


def test_the_code_needs_a_login_first_and_then_continues(world: World) -> None:
    room = services.meeting_room_ensure(session=world.session)
    response = Client().get(f"/j/{room.join_code}/")
    assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next=/j/{room.join_code}/"


def test_wrong_codes_and_wrong_audiences_are_told_clearly(world: World) -> None:
    room = services.meeting_room_ensure(session=world.session)
    bad = as_user(world.resident).get(reverse("meeting_join"), {"code": "12"})
    assert bad.status_code == 400 and "入会码" in bad.content.decode()
    unknown = as_user(world.resident).get("/j/KKKKKK/")
    assert unknown.status_code == 404 and "没有使用这个入会码" in unknown.content.decode()
    outsider = as_user(world.outsider).get(f"/j/{room.join_code}/")
    assert outsider.status_code == 403 and "不在" in outsider.content.decode()


def test_a_resident_checks_in_by_scanning_the_room_code(world: World) -> None:
    room = services.meeting_room_ensure(session=world.session)
    url = f"/j/{room.join_code}/checkin/{room.checkin_token}/"
    client = as_user(world.resident)
    assert client.get(url).status_code == 200 and not Attendance.objects.exists()  # a GET changes nothing
    response = client.post(url, follow=True)
    assert "已签到" in response.content.decode()
    row = Attendance.objects.get(user=world.resident)
    assert row.checked_in_at is not None and row.check_in_method == CheckInMethod.SELF
    wrong = client.post(f"/j/{room.join_code}/checkin/not-the-token/", follow=True)
    assert "签到码无效" in wrong.content.decode()
    assert Attendance.objects.count() == 1


def test_the_door_desk_finds_households_by_room_number_and_checks_them_in(world: World) -> None:
    from agora.roster.models import Resident
    from tests.factories import resident_make

    household = Resident.objects.get(user=world.resident).household
    spouse = resident_make(world.community, "res1b", tags=[world.car_owner], household=household)
    client = as_user(world.moderator)
    page = client.get(reverse("topic_sessions:meeting_checkin", args=[world.session.pk]), {"q": household.room}).content.decode()
    assert "res1" in page and "res1b" in page and "全户签到" in page
    client.post(action_url(world.session.pk, "checkin.record"), {"user_ids": [world.resident.pk, spouse.pk]})
    assert set(Attendance.objects.filter(checked_in_at__isnull=False).values_list("user_id", flat=True)) == {world.resident.pk, spouse.pk}
    assert as_user(world.resident).get(reverse("topic_sessions:meeting_checkin", args=[world.session.pk])).status_code == 403


# --- projector and log ------------------------------------------------------------------


def png_luminance(data: bytes) -> tuple[bytes, int, int]:
    """Decode the 1-bit greyscale PNG segno writes (enough of PNG for this test, nothing more)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (1, 0)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8
    out = io.BytesIO()
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG row filter (one byte per "pixel" at depth 1)
            left, up, corner = (line[i - 1] if i else 0), previous[i], (previous[i - 1] if i else 0)
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        previous = line
        for x in range(width):
            out.write(b"\xff" if line[x // 8] >> (7 - x % 8) & 1 else b"\x00")
    return out.getvalue(), width, height


def decode_qr_png(data: bytes) -> str:
    import zxingcpp

    pixels, width, height = png_luminance(data)
    found = zxingcpp.read_barcodes(zxingcpp.ImageView(pixels, width, height, zxingcpp.ImageFormat.Lum))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def fetch_png(client: Client, path: str) -> bytes:
    response = client.get(path, HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    return response.content


def test_the_projector_page_needs_only_its_link_and_its_qr_codes_decode_to_the_join_urls(world: World) -> None:
    meeting_make(world)
    room = services.meeting_room_ensure(session=world.session)
    response = Client().get(f"/projector/{room.projector_token}/", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200 and response["Referrer-Policy"] == "no-referrer"
    page = response.content.decode()
    assert world.session.title in page and room.join_code in page and "res2" in page and 'id="projector-vote"' in page
    assert "普通发言" not in page  # the chat never goes on the wall
    images = {name: src for src, name in re.findall(r'<img src="([^"]+)" alt="[^"]*" id="(projector-[a-z-]+qr)"', page)}
    anonymous = Client()
    assert decode_qr_png(fetch_png(anonymous, images["projector-join-qr"])) == f"http://127.0.0.1:8000/j/{room.join_code}/"
    checkin_url = f"http://127.0.0.1:8000/j/{room.join_code}/checkin/{room.checkin_token}/"
    assert decode_qr_png(fetch_png(anonymous, images["projector-checkin-qr"])) == checkin_url
    assert room.checkin_token not in images["projector-checkin-qr"]  # the image link does not give the secret away
    assert Client().get("/projector/wrong-token/").status_code == 404
    services.projector_link_rotate(session=world.session, by=world.moderator)
    assert Client().get(f"/projector/{room.projector_token}/").status_code == 404


def test_the_join_qr_on_the_session_page_decodes_to_the_join_url(world: World) -> None:
    room = services.meeting_room_ensure(session=world.session)
    page = (
        as_user(world.resident).get(reverse("topic_sessions:detail", args=[world.session.pk]), HTTP_HOST="127.0.0.1:8000").content.decode()
    )
    src = re.search(r'<img class="qr" src="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert decode_qr_png(fetch_png(as_user(world.resident), src)) == f"http://127.0.0.1:8000/j/{room.join_code}/"


def test_the_check_in_qr_is_for_moderators_only(world: World) -> None:
    room = services.meeting_room_ensure(session=world.session)
    path = reverse("topic_sessions:meeting_checkin_qr", args=[world.session.pk])
    assert decode_qr_png(fetch_png(as_user(world.moderator), path)).endswith(f"/j/{room.join_code}/checkin/{room.checkin_token}/")
    assert as_user(world.resident).get(path).status_code == 403
    assert Client().get("/projector/not-the-token/checkin-qr.png").status_code == 404


def test_moderators_read_the_log_with_who_what_when_why(world: World) -> None:
    meeting_make(world)
    client = as_user(world.moderator)
    page = client.get(reverse("topic_sessions:meeting_log", args=[world.session.pk])).content.decode()
    assert "隐藏了一条发言" in page and "广告" in page and "禁言" in page and "mod" in page
    assert ModerationAction.objects.filter(session=world.session).count() >= 7
    for who in ("resident", "observer"):
        assert as_user(getattr(world, who)).get(reverse("topic_sessions:meeting_log", args=[world.session.pk])).status_code == 403


def test_a_finished_session_refuses_live_actions_with_a_reason(world: World) -> None:
    world.session.state = SessionState.ADJOURNED
    world.session.save()
    response = as_user(world.moderator).post(action_url(world.session.pk, "agenda.next"), follow=True)
    assert "只能在议事进行中" in response.content.decode()


def test_before_the_meeting_the_join_code_and_agenda_tools_are_ready(world: World) -> None:
    world.session.state = SessionState.SCHEDULED
    world.session.save()
    url = reverse("topic_sessions:detail", args=[world.session.pk])
    moderator = as_user(world.moderator).get(url).content.decode()
    resident = as_user(world.resident).get(url).content.decode()
    code = services.meeting_room_ensure(session=world.session).join_code
    assert code in moderator and code in resident
    assert "agenda.add" in moderator and "floor.add" not in moderator and "hand.raise" not in resident
    as_user(world.moderator).post(action_url(world.session.pk, "agenda.add"), {"title": "会前补充议程", "planned_minutes": "10"})
    assert world.session.agenda_items.filter(title="会前补充议程", planned_minutes=10).exists()
    world.session.state = SessionState.ADJOURNED
    world.session.save()
    assert code not in as_user(world.resident).get(url).content.decode()


@pytest.mark.parametrize("who", ["resident", "observer", "outsider", "other_moderator"])
def test_services_refuse_moderator_actions_even_without_the_edge_check(world: World, who: str) -> None:
    from agora.infra.errors import NotAllowed
    from sessions.meeting.commands import command_run

    meeting = meeting_make(world)
    before = fingerprint(world.session)
    for action, data in moderator_actions(meeting).items():
        with pytest.raises(NotAllowed):
            command_run(name=action, session_id=world.session.pk, user=getattr(world, who), data=data, can_moderate=None)
    assert fingerprint(world.session) == before


def test_another_communitys_code_answers_exactly_like_a_code_that_does_not_exist(world: World) -> None:
    room = services.meeting_room_ensure(session=world.session)
    unknown = as_user(world.other_resident).get("/j/KKKKKK/")
    theirs = as_user(world.other_resident).get(f"/j/{room.join_code}/")
    assert theirs.status_code == unknown.status_code == 404

    def page(response) -> str:  # type: ignore[no-untyped-def]
        return re.sub(r'(CSRFToken": |csrfmiddlewaretoken" value=)"\w+"', "", response.content.decode())  # a new token each time

    assert page(theirs).replace(room.join_code, "KKKKKK") == page(unknown)
    checkin = as_user(world.other_resident).get(f"/j/{room.join_code}/checkin/{room.checkin_token}/")
    assert checkin.status_code == 404 and "没有使用这个入会码" in checkin.content.decode()


def test_guessing_join_codes_is_refused_in_words_after_a_few_wrong_ones(world: World) -> None:
    from sessions.meeting import guesses

    room = services.meeting_room_ensure(session=world.session)
    guesser = as_user(world.resident)
    for i in range(guesses.WRONG_PER_ACCOUNT):
        assert guesser.get(f"/j/KKKK{i:02d}/").status_code == 404
    refused = guesser.get(f"/j/{room.join_code}/")  # even the right code: a pause tells nothing
    assert refused.status_code == 429 and "输错入会码的次数太多了" in refused.content.decode()
    assert guesser.get(f"/j/{room.join_code}/checkin/{room.checkin_token}/").status_code == 429
    # A neighbour on another address is not held back by this account's guesses.
    neighbour = as_user(world.resident2)
    assert neighbour.get(f"/j/{room.join_code}/", REMOTE_ADDR="10.0.0.7").status_code == 302
    guesses.join_guesses_reset()  # the pause is over
    assert guesser.get(f"/j/{room.join_code}/").status_code == 302


def test_one_address_guessing_through_many_accounts_or_the_anonymous_qr_image_is_paused(world: World) -> None:
    from sessions.meeting import guesses

    room = services.meeting_room_ensure(session=world.session)
    anonymous = Client()
    for i in range(guesses.WRONG_PER_ADDRESS):
        assert anonymous.get(f"/j/QQQQ{i:02d}/qr.png").status_code == 404
    assert anonymous.get(f"/j/{room.join_code}/qr.png").status_code == 429
    assert as_user(world.resident2).get(f"/j/{room.join_code}/").status_code == 429  # same address
    assert as_user(world.resident2).get(f"/j/{room.join_code}/", REMOTE_ADDR="10.0.0.8").status_code == 302
