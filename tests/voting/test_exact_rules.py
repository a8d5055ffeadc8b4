"""Rules set and shown exactly: a quorum of exactly 2/3, blank approval ballots, whole ballots
from the room, a repeated rank refused, exact figures where a boundary decides (issue 14)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from django.test import Client
from django.urls import reverse

from agora.infra.errors import Refused
from agora.roster.models import Household
from tests.factories import World, household_make, make_world, resident_make
from tests.voting.helpers import key, open_motion, option, vote
from voting import ballots, services
from voting.forms import MotionForm, parse_quorum
from voting.models import InPersonCount, Motion
from voting.services import InPersonEntry

pytestmark = pytest.mark.django_db


def client_for(user, language: str = "en") -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def url(name: str, motion: Motion) -> str:
    return reverse(f"voting:{name}", kwargs={"session_id": motion.session_id, "motion_id": motion.pk})


# --- the quorum as an exact fraction -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2/3", Fraction(2, 3)),
        (" 2 / 3 ", Fraction(2, 3)),
        ("60%", Fraction(3, 5)),
        ("60", Fraction(3, 5)),
        ("66.5%", Fraction(133, 200)),
        ("2／3", Fraction(2, 3)),
        ("abc", None),
        ("1/0", None),
    ],
)
def test_a_quorum_is_read_as_an_exact_fraction(text: str, expected: Fraction | None) -> None:
    assert parse_quorum(text) == expected


def motion_form(world: World, **data: str) -> MotionForm:
    fields = {
        "text": "东门划线",
        "kind": "approve_reject",
        "eligibility": "audience",
        "ballot_unit": "person",
        "weight_mode": "equal",
        "base": "yes_no",
        "threshold": "more_than_half",
        **data,
    }
    return MotionForm(fields, session=world.session)


def test_exactly_two_thirds_can_be_set_and_two_of_three_reach_it(world: World) -> None:
    resident_make(world.community, "res5", tags=[world.car_owner])  # 3 eligible car owners
    form = motion_form(world, quorum="2/3")
    assert form.is_valid(), form.errors
    motion = services.motion_create(session=world.session, by=world.moderator, text="东门划线", settings=form.motion_settings())
    assert (motion.quorum, motion.quorum_text) == (Fraction(2, 3), "2/3")
    services.motion_open(motion=motion, by=world.moderator)
    vote(motion, world.resident, "yes")
    vote(motion, world.resident2, "no")
    result = services.motion_close(motion=motion, by=world.moderator)
    p = result.data["participation"]
    assert p["quorum_reached"] and (p["quorum_text"], p["quorum_required_exact"], p["weight_exact"]) == ("2/3", "2", "2")
    assert result.outcome == "tie"


def test_a_whole_percentage_stays_a_percentage(world: World) -> None:
    resident_make(world.community, "res5", tags=[world.car_owner])
    motion = open_motion(world.session, world.moderator, quorum_percent=67)
    vote(motion, world.resident, "yes")
    vote(motion, world.resident2, "yes")
    result = services.motion_close(motion=motion, by=world.moderator)
    assert (motion.quorum_text, result.outcome) == ("67%", "no_quorum")  # 2 < 67/100 × 3 = 2.01
    assert result.data["participation"]["quorum_required_exact"] == "201/100"


@pytest.mark.parametrize("text", ["0", "3/2", "101%", "two thirds"])
def test_a_quorum_outside_0_to_1_or_unreadable_is_refused_with_a_sentence(world: World, text: str) -> None:
    form = motion_form(world, quorum=text)
    assert not form.is_valid()
    assert "quorum" in form.errors and len(str(form.errors["quorum"][0])) > 20


def test_the_service_refuses_a_quorum_above_everyone(world: World) -> None:
    with pytest.raises(Refused):
        services.motion_create(session=world.session, by=world.moderator, text="x", settings=services.MotionSettings(quorum=Fraction(4, 3)))


def test_the_rule_shows_the_exact_quorum(world: World) -> None:
    motion = open_motion(world.session, world.moderator, quorum=Fraction(2, 3))
    html = client_for(world.resident).get(reverse("topic_sessions:detail", kwargs={"session_id": world.session.pk})).content.decode()
    assert "Quorum: 2/3 of eligible voters" in html
    assert motion.quorum == Fraction(2, 3)


# --- blank approval ballots; a repeated rank -------------------------------------------------


def test_an_empty_approval_ballot_counts_as_taking_part(world: World) -> None:
    motion = open_motion(world.session, world.moderator, kind="approval", options=["周一", "周三"], quorum_percent=100)
    ballots.ballot_cast(motion=motion, voter=world.resident, choice=[], idempotency_key=key())
    vote(motion, world.resident2, "周三")
    result = services.motion_close(motion=motion, by=world.moderator)
    assert result.data["participation"]["total"] == 2 and result.data["participation"]["quorum_reached"]
    assert {o["label"]: o["total"] for o in result.data["options"]} == {"周一": 0, "周三": 1}
    assert result.data["winner"] == option(motion, "周三")


def test_an_empty_single_choice_ballot_is_still_refused(world: World) -> None:
    motion = open_motion(world.session, world.moderator, kind="single", options=["东门", "西门"])
    with pytest.raises(Refused, match=r"choose|选"):
        ballots.ballot_cast(motion=motion, voter=world.resident, choice=[], idempotency_key=key())


def test_a_ranked_ballot_with_an_option_twice_is_refused_before_confirmation(world: World) -> None:
    motion = open_motion(world.session, world.moderator, kind="ranked", options=["摇号", "老人优先", "拍卖"])
    a, b = option(motion, "摇号"), option(motion, "老人优先")
    with pytest.raises(Refused, match=r"two places|两个位置"):
        ballots.ballot_preview(motion=motion, voter=world.resident, choice=[a, a, b])
    client = client_for(world.resident)
    client.cookies["agora_elder"] = "1"
    response = client.post(url("ballot", motion), {"rank": [str(a), str(a), str(b)], "idempotency_key": key()}, follow=True)
    assert "two places" in response.content.decode() and not motion.participations.exists()


def test_the_ballot_form_carries_the_sentence_for_a_repeated_rank(world: World) -> None:
    open_motion(world.session, world.moderator, kind="ranked", options=["摇号", "老人优先"])
    html = client_for(world.resident).get(reverse("topic_sessions:detail", kwargs={"session_id": world.session.pk})).content.decode()
    assert 'data-msg-duplicate="You ranked the same option at two places.' in html


# --- whole ballots from the room in household votes ---------------------------------------


def test_household_room_ballots_for_a_ranked_vote_keep_the_whole_ranking(world: World) -> None:
    motion = open_motion(
        world.session, world.moderator, kind="ranked", ballot_unit="household", secret=False, options=["摇号", "老人优先", "拍卖"]
    )
    h1 = world.resident.residencies.get().household
    h2 = world.resident2.residencies.get().household
    response = client_for(world.moderator).post(url("in_person", motion), {"ballots": f"{h1} {h2}: 3 1"})
    assert response.status_code == 302
    assert sorted(InPersonCount.objects.values_list("household_id", "choice")) == sorted(
        [(h1.pk, [option(motion, "拍卖"), option(motion, "摇号")]), (h2.pk, [option(motion, "拍卖"), option(motion, "摇号")])]
    )


def test_household_room_ballots_for_an_approval_vote_may_be_blank(world: World) -> None:
    motion = open_motion(world.session, world.moderator, kind="approval", ballot_unit="household", secret=False, options=["周一", "周三"])
    h1 = world.resident.residencies.get().household
    h2 = world.resident2.residencies.get().household
    response = client_for(world.moderator).post(url("in_person", motion), {"ballots": f"{h1}: 1 2\n{h2}:"})
    assert response.status_code == 302
    result = services.motion_close(motion=motion, by=world.moderator)
    assert result.data["participation"]["in_person"] == 2
    assert {o["label"]: o["total"] for o in result.data["options"]} == {"周一": 1, "周三": 1}


def test_an_unreadable_household_line_is_refused_with_the_line_number(world: World) -> None:
    motion = open_motion(world.session, world.moderator, kind="ranked", ballot_unit="household", options=["摇号", "老人优先"])
    response = client_for(world.moderator).post(url("in_person", motion), {"ballots": "1号楼-9-999: 1\nno colon here"})
    html = response.content.decode()
    assert response.status_code == 200 and ("Unknown household address" in html or "Line 2" in html)
    assert not InPersonCount.objects.exists()


# --- exact figures where a boundary decides -------------------------------------------------


def test_art278_near_the_boundary_shows_exact_figures_and_names_the_measure_short() -> None:
    """6 of 9 owners (exactly 2/3 by headcount) but 599 of 900 m² (just short by area)."""
    world = make_world()
    c = world.community
    Household.objects.filter(building__community=c).update(exclusive_area=None)
    areas = ["100.00"] * 5 + ["99.00"] + ["100.00"] * 2 + ["101.00"]
    homes = [household_make(c, room=f"70{i}", area=a, owner_key=f"Q{i}") for i, a in enumerate(areas)]
    motion = open_motion(world.session, world.moderator, kind="art278")
    services.in_person_count_enter(
        motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "yes")], households=homes[:6])]
    )
    result = services.motion_close(motion=motion, by=world.moderator)
    art = result.data["art278"]
    assert (art["quorum_headcount"]["value"], art["quorum_headcount"]["base"], art["quorum_headcount"]["met"]) == ("6", "9", True)
    assert (art["quorum_area"]["share_exact"], art["quorum_area"]["met"]) == ("599/900", False)
    assert art["short"] == ["quorum_area"] and result.outcome == "no_quorum"
    html = client_for(world.resident).get(url("results", motion)).content.decode()
    assert "6 / 9" in html and "= 2/3" in html and "599.00 / 900.00" in html
    assert "Quorum not reached by area: 599.00 of 900.00 m² took part, less than 2/3." in html
    assert "by headcount" not in html


# --- a tie that decides the winner: a recorded public draw ----------------------------------


def test_a_single_choice_tie_is_decided_by_a_recomputable_public_draw(world: World) -> None:
    import hashlib

    from agora.roster.models import AuditEvent

    motion = open_motion(world.session, world.moderator, kind="single", options=["东门", "西门"])
    vote(motion, world.resident, "东门")
    vote(motion, world.resident2, "西门")
    assert services.motion_close(motion=motion, by=world.moderator).outcome == "tie"
    with pytest.raises(Refused):
        services.motion_tie_draw(motion=motion, by=world.moderator, public_value="  ")
    response = client_for(world.moderator).post(url("draw", motion), {"public_value": "17 42 3"})
    assert response.status_code == 302
    resolution = Motion.objects.get(pk=motion.pk).resolution
    draw = resolution.data["draw"]
    tied = [option(motion, "东门"), option(motion, "西门")]
    seed = hashlib.sha256(f"agora-draw-v1\nmotion:{motion.pk}\ntied:{tied[0]},{tied[1]}\nvalue:17 42 3".encode()).hexdigest()
    digest = hashlib.sha256(f"{seed}\nstep:1\noptions:{tied[0]},{tied[1]}".encode()).hexdigest()
    assert (draw["seed"], draw["winner"], draw["tied"]) == (seed, tied[int(digest, 16) % 2], tied)
    assert (resolution.outcome, resolution.data["winner"], draw["by"]) == ("winner", draw["winner"], world.moderator.get_username())
    assert AuditEvent.objects.filter(kind="motion.tie_drawn").count() == 1
    with pytest.raises(Refused):  # once only
        services.motion_tie_draw(motion=motion, by=world.moderator, public_value="other")
    html = client_for(world.resident).get(url("results", motion)).content.decode()
    assert seed in html and "17 42 3" in html


def test_only_a_moderator_draws_and_only_on_a_tie(world: World) -> None:
    from agora.infra.errors import NotAllowed

    motion = open_motion(world.session, world.moderator, kind="single", options=["东门", "西门"])
    vote(motion, world.resident, "东门")
    services.motion_close(motion=motion, by=world.moderator)
    with pytest.raises(NotAllowed):
        services.motion_tie_draw(motion=motion, by=world.resident, public_value="1 2 3")
    with pytest.raises(Refused, match=r"tied|平"):
        services.motion_tie_draw(motion=motion, by=world.moderator, public_value="1 2 3")
    assert client_for(world.resident).post(url("draw", motion), {"public_value": "1"}).status_code == 403


def test_a_ranked_tie_that_changes_the_winner_is_decided_by_a_draw_and_counted_on() -> None:
    world = make_world()
    voters = [resident_make(world.community, f"rk{i}", tags=[world.car_owner]) for i in range(10)]
    motion = open_motion(world.session, world.moderator, kind="ranked", options=["A", "B", "C"])
    for i, user in enumerate(voters):
        vote(motion, user, *(["A"] if i < 4 else ["B", "C"] if i < 7 else ["C", "B"]))
    result = services.motion_close(motion=motion, by=world.moderator)
    assert (result.outcome, result.data["reason"]) == ("tie", "elimination_tie_unresolved")
    assert result.data["possible_winners"] == [option(motion, "B"), option(motion, "C")]
    html = client_for(world.resident).get(url("results", motion)).content.decode()
    assert "Depending on it, the winner could be: B, C." in html  # names joined the English way
    resolution = services.motion_tie_draw(motion=motion, by=world.moderator, public_value="witnesses: 5 8 1")
    draw = resolution.data["draw"]
    assert draw["winner"] in (option(motion, "B"), option(motion, "C"))
    assert draw["rounds"][0]["tie_break"] == "draw" and draw["rounds"][0]["eliminated"] != [draw["winner"]]
    assert resolution.outcome == "winner"
