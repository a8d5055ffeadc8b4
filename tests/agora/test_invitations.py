"""Invitation sheets: a one-time code per person, printed by a moderator; logging in with it and
choosing how to log in next time; expiry, revocation, one use, guessing limits; the moderator
setting a password; each act audited; who may do it."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
import zxingcpp
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from agora.infra.errors import Refused
from agora.infra.guess_limits import guess_limits_reset
from agora.roster.invitations import ALPHABET, CODE_LENGTH, code_hash, invitation_issue, invitation_redeem
from agora.roster.models import AuditEvent, Invitation, Role
from tests.agora.test_pdf import png_of_page
from tests.factories import community_make, resident_make, staff_make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_limits():  # type: ignore[no-untyped-def]
    guess_limits_reset()
    yield
    guess_limits_reset()


@pytest.fixture
def community():  # type: ignore[no-untyped-def]
    return community_make("gyl")


@pytest.fixture
def moderator(community):  # type: ignore[no-untyped-def]
    return staff_make(community, Role.MODERATOR, "mod")


@pytest.fixture
def resident(community):  # type: ignore[no-untyped-def]
    user = resident_make(community, "zhang")
    user.first_name = "张建国"
    user.set_unusable_password()
    user.save()
    return user


def client_for(user, language: str = "en") -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.cookies["django_language"] = language
    if user is not None:
        client.force_login(user)
    return client


def print_sheets(client: Client, *users) -> bytes:  # type: ignore[no-untyped-def]
    response = client.post(reverse("roster:sheets", args=["gyl"]), {"user": [u.pk for u in users], "confirmed": "1"})
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response)


def codes_in(pdf: bytes) -> list[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.findall(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}\b", text)


def test_a_code_is_long_enough_and_stored_only_hashed(community, moderator, resident) -> None:  # type: ignore[no-untyped-def]
    import math

    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 50
    issued = invitation_issue(user=resident, community=community, by=moderator)
    row = Invitation.objects.get()
    assert row.code_hash == code_hash(issued.code) and issued.code not in row.code_hash
    assert not any(ch in issued.code for ch in "01OIL")


def test_the_sheet_is_an_a4_page_per_person_whose_qr_code_logs_in(community, moderator, resident, tmp_path) -> None:  # type: ignore[no-untyped-def]
    wang = resident_make(community, "wang")
    pdf = print_sheets(client_for(moderator, "zh-hans"), resident, wang)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = reader.pages[0].extract_text()
    assert "张建国" in text and "红色议事厅邀请单" in text
    codes = codes_in(pdf)
    assert len(codes) == 2 and codes[0] != codes[1]
    qr = [c.text for c in zxingcpp.read_barcodes(png_of_page(pdf, 1, tmp_path))]
    assert qr == [f"http://testserver/i/{codes[0]}/"]
    assert AuditEvent.objects.filter(kind="invitation.issued", actor=moderator).count() == 2


def test_the_qr_address_asks_for_a_tap_then_logs_in_once_and_offers_a_password(community, moderator, resident) -> None:  # type: ignore[no-untyped-def]
    code = codes_in(print_sheets(client_for(moderator), resident))[0]
    phone = client_for(None)
    page = phone.get(f"/i/{code}/")
    assert page.status_code == 200 and f'value="{code}"' in page.content.decode()
    assert not Invitation.objects.filter(used_at__isnull=False).exists()  # opening the link uses nothing
    welcome = phone.post("/i/", {"code": code.lower().replace("-", " ")}, follow=True)
    assert "Welcome, 张建国" in html.unescape(welcome.content.decode())
    chosen = phone.post(
        "/welcome/", {"choice": "password", "new_password1": "lantern-courtyard-77", "new_password2": "lantern-courtyard-77"}, follow=True
    )
    assert "Your password is set" in chosen.content.decode()
    resident.refresh_from_db()
    assert resident.check_password("lantern-courtyard-77")
    assert AuditEvent.objects.filter(kind="invitation.used", actor=resident).exists()
    assert AuditEvent.objects.filter(kind="account.password_chosen", actor=resident).exists()
    # Once: the same code again is refused, with the sentence and the code kept in the form.
    again = client_for(None).post("/i/", {"code": code})
    assert again.status_code == 400
    assert "This code is not valid." in again.content.decode() and f'value="{code}"' in again.content.decode()


def test_keeping_sheets_sets_no_password(community, moderator, resident) -> None:  # type: ignore[no-untyped-def]
    code = codes_in(print_sheets(client_for(moderator), resident))[0]
    phone = client_for(None, "zh-hans")
    phone.post("/i/", {"code": code})
    done = phone.post("/welcome/", {"choice": "sheet"}, follow=True)
    assert "好的，不设密码" in done.content.decode()
    resident.refresh_from_db()
    assert not resident.has_usable_password()


def test_a_weak_password_is_refused_with_a_sentence(community, moderator, resident) -> None:  # type: ignore[no-untyped-def]
    code = codes_in(print_sheets(client_for(moderator), resident))[0]
    phone = client_for(None, "zh-hans")
    phone.post("/i/", {"code": code})
    weak = phone.post("/welcome/", {"choice": "password", "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 400 and "密码太短" in weak.content.decode()
    resident.refresh_from_db()
    assert not resident.has_usable_password()


def test_an_expired_or_revoked_code_is_refused_like_a_wrong_one(community, moderator, resident) -> None:  # type: ignore[no-untyped-def]
    expired = invitation_issue(user=resident, community=community, by=moderator)
    Invitation.objects.filter(pk=expired.invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Refused, match=r"登录码无效|not valid"):
        invitation_redeem(typed=expired.code, ip_address="10.0.0.1")
    revoked = invitation_issue(user=resident, community=community, by=moderator)
    client = client_for(moderator)
    confirm = client.get(reverse("roster:revoke", args=["gyl", resident.pk]))
    assert "stops working at once" in confirm.content.decode()
    assert Invitation.objects.filter(revoked_at__isnull=True).exists()  # the GET revoked nothing
    client.post(reverse("roster:revoke", args=["gyl", resident.pk]), {"confirmed": "1"})
    with pytest.raises(Refused, match=r"登录码无效|not valid"):
        invitation_redeem(typed=revoked.code, ip_address="10.0.0.1")
    assert AuditEvent.objects.filter(kind="invitation.revoked", actor=moderator).exists()


def test_printing_again_makes_the_old_sheet_stop_working(community, moderator, resident) -> None:  # type: ignore[no-untyped-def]
    client = client_for(moderator)
    first = codes_in(print_sheets(client, resident))[0]
    confirm = client.get(reverse("roster:sheets", args=["gyl"]), {"user": resident.pk})
    assert "Sheets printed for them before stop working" in confirm.content.decode() or "stops working" in confirm.content.decode()
    second = codes_in(print_sheets(client, resident))[0]
    with pytest.raises(Refused):
        invitation_redeem(typed=first, ip_address="10.0.0.2")
    assert invitation_redeem(typed=second, ip_address="10.0.0.2") == resident


def test_guessing_is_paused_per_address_even_for_the_right_code(community, moderator, resident) -> None:  # type: ignore[no-untyped-def]
    issued = invitation_issue(user=resident, community=community, by=moderator)
    guesser = client_for(None)
    for _ in range(20):
        assert guesser.post("/i/", {"code": "ABCD-EFGH-JKMN"}).status_code == 400
    paused = guesser.post("/i/", {"code": issued.code})
    assert paused.status_code == 429 and "Too many wrong codes from this device" in paused.content.decode()
    assert Invitation.objects.get().used_at is None
    other_address = Client(REMOTE_ADDR="10.9.9.9")
    assert other_address.post("/i/", {"code": issued.code}).status_code == 302


def test_a_moderator_sets_a_password_for_their_resident(community, moderator, resident) -> None:  # type: ignore[no-untyped-def]
    client = client_for(moderator)
    url = reverse("roster:password", args=["gyl", resident.pk])
    mismatch = client.post(url, {"new_password1": "lantern-courtyard-77", "new_password2": "other"})
    assert mismatch.status_code == 400 and "didn" in html.unescape(mismatch.content.decode())
    client.post(url, {"new_password1": "lantern-courtyard-77", "new_password2": "lantern-courtyard-77"})
    resident.refresh_from_db()
    assert resident.check_password("lantern-courtyard-77")
    assert AuditEvent.objects.filter(kind="account.password_set", actor=moderator, detail__username="zhang").exists()


def test_no_moderator_touches_another_moderators_or_another_communitys_account(community, moderator) -> None:  # type: ignore[no-untyped-def]
    colleague = staff_make(community, Role.MODERATOR, "mod2")
    other = community_make("fjl")
    elsewhere = resident_make(other, "li")
    client = client_for(moderator)
    refused = client.post(
        reverse("roster:password", args=["gyl", colleague.pk]),
        {"new_password1": "lantern-courtyard-77", "new_password2": "lantern-courtyard-77"},
    )
    assert refused.status_code == 403 and "managed by the district office" in html.unescape(refused.content.decode())
    assert client.post(reverse("roster:sheets", args=["gyl"]), {"user": colleague.pk, "confirmed": "1"}).status_code == 403
    assert client.get(reverse("roster:password", args=["gyl", elsewhere.pk])).status_code == 404
    assert client.post(reverse("roster:sheets", args=["gyl"]), {"user": elsewhere.pk, "confirmed": "1"}).status_code == 404
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("who", ["resident", "observer", "grid_worker", "other_moderator", "anonymous"])
def test_only_this_communitys_moderators_print_revoke_or_set_passwords(community, resident, who) -> None:  # type: ignore[no-untyped-def]
    other = community_make("fjl")
    person = {
        "resident": lambda: resident_make(community),
        "observer": lambda: staff_make(community, Role.OBSERVER),
        "grid_worker": lambda: staff_make(community, Role.GRID_WORKER),
        "other_moderator": lambda: staff_make(other, Role.MODERATOR),
        "anonymous": lambda: None,
    }[who]()
    client = client_for(person)
    attempts = [
        client.post(reverse("roster:sheets", args=["gyl"]), {"user": resident.pk, "confirmed": "1"}),
        client.post(reverse("roster:revoke", args=["gyl", resident.pk]), {"confirmed": "1"}),
        client.post(
            reverse("roster:password", args=["gyl", resident.pk]),
            {"new_password1": "lantern-courtyard-77", "new_password2": "lantern-courtyard-77"},
        ),
    ]
    expected = 302 if who == "anonymous" else 403
    assert [a.status_code for a in attempts] == [expected] * 3
    resident.refresh_from_db()
    assert not Invitation.objects.exists() and not resident.has_usable_password()
