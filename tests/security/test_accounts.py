"""Login brute-force protection, closing live connections on logout/deactivation, the security log."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from agora.asgi import application
from agora.roster.models import AuditEvent, Membership
from tests.factories import PASSWORD, World
from tests.sessions.live_helpers import receive_until


def _login(ip: str, username: str, password: str) -> int:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code


@pytest.mark.django_db
def test_five_wrong_passwords_lock_that_name_from_that_address_only(world: World) -> None:
    for _ in range(5):
        assert _login("10.0.0.66", "res1", "wrong") in (200, 429)
    locked = Client(REMOTE_ADDR="10.0.0.66").post(reverse("login"), {"username": "res1", "password": PASSWORD})
    assert locked.status_code == 429
    assert "15 分钟" in locked.content.decode()
    # The real resident, from their own phone, still gets in: no lock-out from elsewhere.
    assert _login("10.0.0.7", "res1", PASSWORD) == 302
    assert AuditEvent.objects.filter(kind="login.failed", community=world.community).count() >= 5
    assert AuditEvent.objects.filter(kind="login.locked", community=world.community).exists()


@pytest.mark.django_db
def test_a_failed_login_says_so_in_chinese(world: World) -> None:
    page = Client().post(reverse("login"), {"username": "res1", "password": "wrong"}).content.decode()
    assert "请输入一个正确的" in page or "正确的用户名和密码" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_logout_closes_the_users_open_websockets_at_once(tx_world: World) -> None:
    client = Client()
    await database_sync_to_async(client.force_login)(tx_world.resident)
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]
    comm = WebsocketCommunicator(application, f"/ws/sessions/{tx_world.session.pk}/", headers=headers)
    assert (await comm.connect())[0]
    await comm.send_json_to({"type": "hello", "last_seq": 0})
    await receive_until(comm, "synced")
    await database_sync_to_async(client.post)(reverse("logout"))
    frames = await receive_until(comm, "closed")
    assert frames[-1]["reason"] == "logout"
    assert (await comm.receive_output(timeout=3))["type"] == "websocket.close"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_deactivating_a_user_closes_their_websockets(tx_world: World) -> None:
    client = Client()
    await database_sync_to_async(client.force_login)(tx_world.resident)
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]
    comm = WebsocketCommunicator(application, f"/ws/sessions/{tx_world.session.pk}/", headers=headers)
    assert (await comm.connect())[0]

    def deactivate() -> None:
        tx_world.resident.is_active = False
        tx_world.resident.save()

    await database_sync_to_async(deactivate)()
    frames = await receive_until(comm, "closed")
    assert frames[-1]["reason"] == "deactivated"


@pytest.mark.django_db
def test_role_changes_and_session_moves_are_in_the_moderators_security_log(world: World) -> None:
    from sessions.services import topic_session_adjourn

    Membership.objects.filter(user=world.observer).update(role="observer")
    membership = Membership.objects.get(user=world.observer)
    membership.role = "moderator"
    membership.save()
    topic_session_adjourn(session=world.session, by=world.moderator)
    client = Client()
    client.force_login(world.moderator)
    page = client.get(reverse("audit_log", args=[world.community.slug])).content.decode()
    assert "角色变更" in page and "议事状态变更" in page
    assert AuditEvent.objects.filter(kind="session.transition", actor=world.moderator, community=world.community).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["resident", "observer", "other_moderator", None])
def test_only_the_communitys_moderators_read_its_security_log(world: World, who: str | None) -> None:
    client = Client()
    if who:
        client.force_login(getattr(world, who))
    response = client.get(reverse("audit_log", args=[world.community.slug]))
    assert response.status_code in (302, 404)


@pytest.mark.django_db
def test_votes_and_minutes_are_in_the_moderators_security_log(world: World) -> None:
    from records import services as minutes_services
    from tests.records.helpers import voted_session

    session = voted_session(world)  # opens, enters in-person counts, closes
    minutes_services.minutes_draft_save(session=session, by=world.moderator, summaries={"general": "通过。"}, visibility="public")
    record = minutes_services.minutes_publish(session=session, by=world.moderator)
    minutes_services.minutes_correct(record=record, by=world.moderator, summaries={"general": "通过,全体同意。"}, reason="补充")
    events = AuditEvent.objects.filter(community=world.community, actor=world.moderator)
    kinds = list(
        events.filter(kind__in=["motion.opened", "motion.in_person", "motion.closed", "minutes.published", "minutes.corrected"])
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == ["motion.opened", "motion.in_person", "motion.closed", "minutes.published", "minutes.corrected"]
    assert events.get(kind="motion.in_person").detail["ballots"] == 6
    assert events.get(kind="motion.closed").detail["outcome"] == "passed"
    assert not AuditEvent.objects.filter(community=world.other_community, kind__startswith="motion.").exists()
    client = Client()
    client.force_login(world.moderator)
    page = client.get(reverse("audit_log", args=[world.community.slug])).content.decode()
    for label in ("开始表决", "表决结束", "录入现场表决票数", "纪要已发布", "更正会议纪要"):
        assert label in page


def _login_page(ip: str, username: str, password: str, language: str = "zh-hans") -> tuple[int, str]:
    client = Client(REMOTE_ADDR=ip)
    client.cookies["django_language"] = language
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code, response.content.decode()


@pytest.mark.django_db
def test_password_spraying_across_accounts_from_one_address_is_stopped_with_a_sentence(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.AGORA_LOGIN_ADDRESS_LIMIT = 20
    names = ["res1", "res2", "res3", "mod", "obs"] + [f"guess{i:02d}" for i in range(25)]  # 30 usernames, one guess each
    answers = [_login_page("203.0.113.9", name, "123456") for name in names]
    assert [status for status, _page in answers[:20]] == [200] * 20  # a wrong password, said as usual
    assert [status for status, _page in answers[20:]] == [429] * 10
    assert "有许多不同的账号从这个网络" in answers[-1][1] and "账号本身没有被锁定" in answers[-1][1]
    # The right password from that address is refused too: the spray learns nothing more.
    status, page = _login_page("203.0.113.9", "res1", PASSWORD, language="en")
    assert status == 429 and "Many different accounts failed to log in from this network" in page
    # The accounts are not locked: the resident logs in from anywhere else.
    assert _login("198.51.100.7", "res1", PASSWORD) == 302
    assert AuditEvent.objects.filter(kind="login.locked", detail__locked="address", community=world.community).exists()


@pytest.mark.django_db
def test_a_neighbour_on_the_hall_wifi_does_not_lock_the_resident_out_elsewhere(world: World) -> None:
    hall = "10.20.0.1"  # the meeting hall's shared Wi-Fi: everyone there has this address
    for _ in range(6):
        _login(hall, "res1", "wrong")  # a neighbour tries res1's account
    assert _login(hall, "res1", PASSWORD) == 429  # locked on the hall's Wi-Fi ...
    assert _login("10.0.0.8", "res1", PASSWORD) == 302  # ... not on the resident's own phone
    # A handful of neighbours mistyping at the hall does not pause the hall for everyone else.
    for name in ("res2", "res3", "obs"):
        assert _login(hall, name, "typo") == 200
    assert _login(hall, "res2", PASSWORD) == 302
