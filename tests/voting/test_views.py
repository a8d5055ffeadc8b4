"""Vote pages: what each role sees and may do over HTTP, with and without JavaScript."""

from __future__ import annotations

import hashlib

import html5lib
import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import World, resident_make
from tests.voting.helpers import (
    open_motion,
    option,
    stored_ballots,
    stored_choices,
    vote,
)
from voting import services
from voting.models import InPersonCount, Motion, MotionState, SealedBallot

pytestmark = pytest.mark.django_db


def client_for(user, language: str = "zh-hans", elder: bool = False) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    if elder:
        client.cookies["agora_elder"] = "1"
    return client


def page(world: World, user, **kw) -> str:  # type: ignore[no-untyped-def]
    response = client_for(user, **kw).get(reverse("topic_sessions:detail", kwargs={"session_id": world.session.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    html5lib.HTMLParser(strict=False).parse(html)
    return html


def url(name: str, motion: Motion) -> str:
    return reverse(f"voting:{name}", kwargs={"session_id": motion.session_id, "motion_id": motion.pk})


def test_open_motion_shows_a_ballot_to_eligible_residents_only(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    html = page(world, world.resident)
    assert f'id="motion-{motion.pk}"' in html and "ballot-form" in html and "赞成" in html
    observer_html = page(world, world.observer)
    assert f'id="motion-{motion.pk}"' in observer_html and "ballot-form" not in observer_html
    assert "列席" in observer_html or "不参加表决" in observer_html or "Observers" in observer_html


def test_drafts_are_for_moderators_only(world: World) -> None:
    draft = services.motion_create(session=world.session, by=world.moderator, text="草稿议案")
    assert "草稿议案" in page(world, world.moderator)
    assert "草稿议案" not in page(world, world.resident)
    assert client_for(world.resident).get(url("results", draft)).status_code == 404


def test_moderator_drafts_a_motion_with_the_form(world: World) -> None:
    response = client_for(world.moderator).post(
        reverse("voting:create", kwargs={"session_id": world.session.pk}),
        {
            "text": "西侧空地改建停车位",
            "kind": "art278",
            "eligibility": "owners",
            "ballot_unit": "household",
            "weight_mode": "equal",
            "base": "yes_no",
            "threshold": "more_than_half",
            "major_matter": "on",
            "secret": "on",
            "allow_change": "on",
        },
    )
    assert response.status_code == 302
    motion = Motion.objects.get(text="西侧空地改建停车位")
    assert motion.kind == "art278" and motion.major_matter and motion.state == MotionState.DRAFT


def test_form_refusals_keep_what_was_typed(world: World) -> None:
    response = client_for(world.moderator, language="en").post(
        reverse("voting:create", kwargs={"session_id": world.session.pk}),
        {
            "text": "Pick a gate",
            "kind": "single",
            "options": "East",
            "eligibility": "audience",
            "ballot_unit": "person",
            "weight_mode": "equal",
            "base": "yes_no",
            "threshold": "more_than_half",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "at least two options" in html and "Pick a gate" in html
    assert not Motion.objects.exists()


@pytest.mark.parametrize("action", ["open", "close", "discard", "in_person", "create"])
def test_residents_are_refused_every_moderator_action(world: World, action: str) -> None:
    draft = services.motion_create(session=world.session, by=world.moderator, text="草稿")
    live = open_motion(world.session, world.moderator, text="表决中")
    client = client_for(world.resident)
    targets = {
        "open": (url("open", draft), {}),
        "close": (url("close", live), {}),
        "discard": (url("discard", draft), {}),
        "in_person": (url("in_person", live), {f"o{option(live, 'yes')}": "40"}),
        "create": (reverse("voting:create", kwargs={"session_id": world.session.pk}), {"text": "x", "kind": "approve_reject"}),
    }
    target, data = targets[action]
    assert client.post(target, data).status_code in {403, 404}  # drafts are invisible to residents: 404
    assert Motion.objects.get(pk=draft.pk).state == MotionState.DRAFT
    assert Motion.objects.get(pk=live.pk).state == MotionState.OPEN
    assert Motion.objects.count() == 2 and not InPersonCount.objects.exists()


def test_no_javascript_ballot_shows_the_receipt(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    response = client_for(world.resident).post(url("ballot", motion), {"choice": option(motion, "yes"), "idempotency_key": "k" * 20})
    assert response.status_code == 200
    [ballot] = stored_ballots(motion)
    receipt = response.context["result"].receipt
    assert receipt in response.content.decode()
    assert ballot["receipt_hash"] == hashlib.sha256(receipt.encode()).hexdigest()
    again = client_for(world.resident).post(url("ballot", motion), {"choice": option(motion, "yes"), "idempotency_key": "k" * 20})
    assert again.context["result"].receipt == receipt and len(stored_ballots(motion)) == 1


def test_refused_ballot_is_a_sentence_not_an_error_page(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    response = client_for(world.outsider).post(url("ballot", motion), {"choice": option(motion, "yes"), "idempotency_key": "k" * 20})
    assert response.status_code == 404  # the outsider cannot even see the session
    services.motion_close(motion=motion, by=world.moderator)
    response = client_for(world.resident, language="en").post(
        url("ballot", motion), {"choice": option(motion, "yes"), "idempotency_key": "k" * 20}, follow=True
    )
    assert "Voting on this motion is closed" in response.content.decode()
    assert not stored_ballots(motion)


def test_closing_by_hand_publishes_the_resolution_everywhere(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    receipt = vote(motion, world.resident, "yes").receipt
    vote(motion, world.resident2, "yes")
    asked = client_for(world.moderator).post(url("close", motion))
    assert asked.status_code == 200 and "现在结束表决吗？" in asked.content.decode()  # asked first
    assert client_for(world.moderator).post(url("close", motion), {"confirmed": "1"}).status_code == 302
    for language, passed in [("zh-hans", "通过"), ("en", "Passed")]:
        html = page(world, world.resident2, language=language)
        assert passed in html and "<svg" in html and hashlib.sha256(receipt.encode()).hexdigest() in html
        projector = client_for(world.resident, language=language).get(url("results", motion)).content.decode()
        assert passed in projector and 'class="projector"' in projector and "<svg" in projector
    elder = client_for(world.resident, elder=True).get(url("results", motion)).content.decode()
    assert 'class="elder"' in elder and "<svg" in elder
    found = client_for(world.resident, language="en").post(url("receipt_check", motion), {"receipt": receipt}).content.decode()
    assert "This receipt is in the counted list." in found
    missing = client_for(world.resident, language="en").post(url("receipt_check", motion), {"receipt": "nope"}).content.decode()
    assert "This receipt is not in the counted list." in missing


def test_in_person_form_records_counts_with_the_moderator(world: World) -> None:
    for username in ("res5", "res6"):  # 4 eligible car owners, all in the room
        resident_make(world.community, username, tags=[world.car_owner])
    motion = open_motion(world.session, world.moderator)
    response = client_for(world.moderator).post(
        url("in_person", motion), {f"o{option(motion, 'yes')}": "3", f"o{option(motion, 'no')}": "1"}
    )
    assert response.status_code == 302
    assert sorted(InPersonCount.objects.values_list("count", "entered_by__username")) == [(1, "mod"), (3, "mod")]
    assert "（线上 0，现场 4）" in page(world, world.resident) or "现场 4" in page(world, world.resident)


def test_household_in_person_form_takes_addresses(world: World) -> None:
    motion = open_motion(world.session, world.moderator, ballot_unit="household")
    household = world.resident.residencies.get().household
    client = client_for(world.moderator, language="en")
    response = client.post(url("in_person", motion), {f"o{option(motion, 'yes')}": f"{household}, 9号楼-1-999"})
    assert "Unknown household address: 9号楼-1-999" in response.content.decode()
    assert not InPersonCount.objects.exists()
    assert client.post(url("in_person", motion), {f"o{option(motion, 'yes')}": str(household)}).status_code == 302
    assert len(SealedBallot.objects.filter(motion=motion, channel="in_person")) == 1  # a secret vote: sealed until close
    form_page = client.get(url("in_person", motion)).content.decode()
    assert "Households recorded in the room" in form_page and str(household) in form_page
    services.motion_close(motion=motion, by=world.moderator)
    assert InPersonCount.objects.get().household is None  # counted without naming the household


def test_ranked_no_javascript_ballot(world: World) -> None:
    extra = resident_make(world.community, "res4", tags=[world.car_owner])
    motion = open_motion(world.session, world.moderator, kind="ranked", options=["A", "B", "C"])
    client_for(extra).post(url("ballot", motion), {"rank": [option(motion, "B"), option(motion, "A"), ""], "idempotency_key": "r" * 20})
    assert stored_choices(motion) == [[option(motion, "B"), option(motion, "A")]]


def test_motion_and_option_text_cannot_inject_markup(world: World) -> None:
    motion = open_motion(
        world.session,
        world.moderator,
        text="<script>alert(1)</script>停车",
        kind="single",
        options=["<img src=x onerror=alert(1)>东门", "西门"],
    )
    html = page(world, world.resident)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "停车" in html and "东门" in html
    assert Motion.objects.get(pk=motion.pk).text.endswith("停车")


def test_elder_mode_without_javascript_asks_before_the_ballot_is_cast(world: World) -> None:
    """适老化: the choice is shown in words first; nothing is cast until the voter confirms."""
    motion = open_motion(world.session, world.moderator)
    elder = client_for(world.resident, elder=True)
    asked = elder.post(url("ballot", motion), {"choice": option(motion, "no"), "idempotency_key": "e" * 20})
    assert asked.status_code == 200
    html = asked.content.decode()
    html5lib.HTMLParser(strict=True).parse(html)
    assert "投票确定之前请再核对一次" in html and "反对" in html and "对，就投这一票" in html
    assert not stored_ballots(motion)  # not cast yet
    confirm = {"choice": option(motion, "no"), "idempotency_key": "e" * 20, "receipt": "", "confirmed": "1"}
    assert 'name="confirmed" value="1"' in html and f'name="choice" value="{option(motion, "no")}"' in html
    cast = elder.post(url("ballot", motion), confirm)
    assert cast.status_code == 200 and cast.context["result"].receipt in cast.content.decode()
    assert stored_choices(motion) == [[option(motion, "no")]]
    # A second tap on the confirmation is the same ballot, once.
    again = elder.post(url("ballot", motion), confirm)
    assert again.context["result"].receipt == cast.context["result"].receipt and len(stored_ballots(motion)) == 1


def test_ranked_elder_confirmation_keeps_the_order(world: World) -> None:
    motion = open_motion(world.session, world.moderator, text="大门朝哪边", kind="ranked", options=["东门", "西门", "南门"])
    east, _west, south = (option(motion, label) for label in ("东门", "西门", "南门"))
    asked = client_for(world.resident, elder=True).post(
        url("ballot", motion), {"rank": [str(south), str(east), ""], "idempotency_key": "r" * 20}
    )
    html = asked.content.decode()
    assert asked.status_code == 200
    assert html.index("南门") < html.index("东门") and "<li>西门</li>" not in html
    assert f'name="rank" value="{south}"' in html and f'name="rank" value="{east}"' in html
    assert not stored_ballots(motion)


@pytest.mark.parametrize(
    ("who", "data", "expected"),
    [
        ("resident", {}, "Please choose an option."),  # nothing chosen: said at once, no confirmation page
        ("observer", {"choice": "yes"}, "Observers attend but do not vote."),  # not a voter: refused before asking
    ],
)
def test_elder_confirmation_refuses_first_what_the_ballot_would_refuse(world: World, who: str, data: dict, expected: str) -> None:
    motion = open_motion(world.session, world.moderator)
    if data.get("choice") == "yes":
        data = {"choice": option(motion, "yes")}
    response = client_for(getattr(world, who), language="en", elder=True).post(
        url("ballot", motion), {**data, "idempotency_key": "x" * 20}, follow=True
    )
    assert expected in response.content.decode()
    assert "Check your vote" not in response.content.decode()
    assert not stored_ballots(motion)


def test_without_elder_mode_the_ballot_is_cast_at_once(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    response = client_for(world.resident).post(
        url("ballot", motion), {"choice": option(motion, "yes"), "idempotency_key": "n" * 20, "confirmed": ""}
    )
    assert response.status_code == 200 and len(stored_ballots(motion)) == 1


def test_the_receipt_check_is_a_post_and_an_old_receipt_link_drops_the_receipt(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    receipt = vote(motion, world.resident, "yes").receipt
    services.motion_close(motion=motion, by=world.moderator)
    client = client_for(world.resident, language="en")
    page_html = client.get(url("results", motion)).content.decode()
    assert 'method="post"' in page_html and url("receipt_check", motion) in page_html
    old_link = client.get(url("results", motion), {"receipt": receipt})
    assert old_link.status_code == 302 and old_link["Location"] == url("results", motion)  # no receipt in it
    anonymous = Client().get(url("results", motion), {"receipt": receipt, "fragment": "1"})
    assert anonymous["Location"] == url("results", motion) + "?fragment=1"  # not copied into a login ?next=
    assert client.get(url("receipt_check", motion)).status_code == 405
    checked = client.post(url("receipt_check", motion), {"receipt": receipt}).content.decode()
    assert "This receipt is in the counted list." in checked


def test_a_removed_resident_opens_no_results_while_the_session_runs(world: World) -> None:
    from sessions.models import Participant

    motion = open_motion(world.session, world.moderator)
    vote(motion, world.resident, "yes")
    services.motion_close(motion=motion, by=world.moderator)
    Participant.objects.create(session=world.session, user=world.resident, removed=True)
    client = client_for(world.resident)
    assert client.get(url("results", motion)).status_code == 404  # as for someone outside the session
    assert client.post(url("receipt_check", motion), {"receipt": "x" * 24}).status_code == 404
    assert client_for(world.resident2).get(url("results", motion)).status_code == 200
