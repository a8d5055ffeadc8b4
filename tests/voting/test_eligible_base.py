"""The eligible base and the ballots of every channel (online, the room) come from one
definition: no channel can add a voter the others would not count (issue 14)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agora.infra.errors import Refused
from tests.factories import World, household_make
from tests.voting.helpers import open_motion, option, vote
from voting import services
from voting.models import Motion, MotionState, Participation
from voting.services import InPersonEntry

pytestmark = pytest.mark.django_db


def test_an_area_weighted_room_entry_without_area_is_refused_and_close_still_works(world: World) -> None:
    motion = open_motion(world.session, world.moderator, ballot_unit="household", weight_mode="area")
    no_area = world.resident2.residencies.get().household
    no_area.exclusive_area = None
    no_area.save()
    with pytest.raises(Refused, match=r"floor area|面积") as info:
        services.in_person_count_enter(
            motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "yes")], households=[no_area])]
        )
    assert info.value.code == "no_area"
    assert not Participation.objects.filter(motion=motion).exists()
    vote(motion, world.resident, "yes")
    result = services.motion_close(motion=motion, by=world.moderator)
    assert result.outcome == "passed" and motion.in_person_counts.count() == 0


def test_a_close_never_fails_on_a_stored_room_ballot_without_area(world: World) -> None:
    from voting.models import InPersonCount

    motion = open_motion(world.session, world.moderator, ballot_unit="household", weight_mode="area")
    household = world.resident2.residencies.get().household
    InPersonCount.objects.create(
        motion=motion, choice=[option(motion, "no")], count=1, weight=Decimal("0"), household=household, entered_by=world.moderator
    )
    vote(motion, world.resident, "yes")
    result = services.motion_close(motion=motion, by=world.moderator)
    assert result.outcome == "passed" and "no_area_ignored" in result.data["notes"]
    assert Motion.objects.get(pk=motion.pk).state == MotionState.CLOSED


def test_art278_a_unit_without_area_entered_in_the_room_is_refused(world: World) -> None:
    c = world.community
    no_area = household_make(c, room="990", area="0.00", owner_key="NOAREA")
    motion = open_motion(world.session, world.moderator, kind="art278")
    eligible_before = services.selectors.eligible_base(motion).headcount
    with pytest.raises(Refused, match=r"floor area|面积") as info:
        services.in_person_count_enter(
            motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "yes")], households=[no_area])]
        )
    assert info.value.code == "no_area"
    vote(motion, world.resident, "yes")
    result = services.motion_close(motion=motion, by=world.moderator)
    art = result.data["art278"]
    assert (art["eligible"]["owners"], art["participating"]["owners"]) == (eligible_before, 1)


def test_art278_the_room_and_online_count_against_the_same_owners() -> None:
    """5 of 8 owners voting must not become 6 of 9 (= exactly 2/3) because a unit without
    area was entered in the room: the entry is refused, the quorum stays 5/8."""
    from agora.roster.models import Household
    from tests.factories import make_world

    world = make_world()
    c = world.community
    Household.objects.filter(building__community=c).update(exclusive_area=None)  # only the 8 below count
    owners = [household_make(c, room=f"80{i}", area="100.00", owner_key=f"E{i}") for i in range(8)]
    no_area = household_make(c, room="899", area="0.00", owner_key="E9")
    motion = open_motion(world.session, world.moderator, kind="art278")
    yes = option(motion, "yes")
    services.in_person_count_enter(motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[yes], households=owners[:5])])
    with pytest.raises(Refused):
        services.in_person_count_enter(motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[yes], households=[no_area])])
    result = services.motion_close(motion=motion, by=world.moderator)
    art = result.data["art278"]
    assert (art["participating"]["owners"], art["eligible"]["owners"]) == (5, 8)
    assert result.outcome == "no_quorum"


def test_room_counts_can_never_take_the_ballots_above_the_eligible_base(world: World) -> None:
    # 2 car owners are eligible (res1, res2). 1 online + 2 in the room would be 3 of 2.
    motion = open_motion(world.session, world.moderator, base="all_eligible", threshold="at_least_two_thirds")
    vote(motion, world.resident, "yes")
    with pytest.raises(Refused, match="2") as info:
        services.in_person_count_enter(motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "yes")], count=2)])
    assert info.value.code == "too_many" and motion.in_person_counts.count() == 0
    services.in_person_count_enter(motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "no")], count=1)])
    with pytest.raises(Refused):
        services.in_person_count_enter(motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "yes")], count=1)])
    result = services.motion_close(motion=motion, by=world.moderator)
    assert result.data["eligible"]["headcount"] == 2 and result.data["notes"] == []
    assert result.outcome == "failed"  # 1 yes of 2 eligible < 2/3


def test_a_household_with_no_one_eligible_cannot_be_entered_in_the_room(world: World) -> None:
    motion = open_motion(world.session, world.moderator, ballot_unit="household")
    outsider_home = world.outsider.residencies.get().household  # not a car owner: not in the audience
    with pytest.raises(Refused) as info:
        services.in_person_count_enter(
            motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "yes")], households=[outsider_home])]
        )
    assert info.value.code == "not_eligible"


def test_a_deactivated_resident_is_not_in_the_eligible_base(world: World) -> None:
    motion = open_motion(world.session, world.moderator, base="all_eligible")
    world.resident2.is_active = False
    world.resident2.save()
    vote(motion, world.resident, "yes")
    result = services.motion_close(motion=motion, by=world.moderator)
    assert result.data["eligible"]["headcount"] == 1 and result.outcome == "passed"


def test_a_voter_who_left_the_audience_after_voting_stays_in_the_base(world: World) -> None:
    motion = open_motion(world.session, world.moderator, base="all_eligible")
    vote(motion, world.resident, "yes")
    vote(motion, world.resident2, "yes")
    world.resident2.residencies.get().tags.clear()
    result = services.motion_close(motion=motion, by=world.moderator)
    assert result.data["eligible"]["headcount"] == 2 and result.data["notes"] == [] and result.outcome == "passed"


@pytest.mark.parametrize(
    "rule",
    [
        {},
        {"eligibility": "owners", "ballot_unit": "household"},
        {"ballot_unit": "household", "weight_mode": "area"},
        {"kind": "art278"},
    ],
    ids=["audience-person", "owners-household", "area-weighted", "art278"],
)
def test_an_online_ballot_and_the_base_agree_on_everyone(world: World, rule: dict[str, str]) -> None:
    """voting.rules.voter_standing (one person, online) and voting.selectors (the base, the room)
    are two implementations of one definition: they must agree for every kind of person."""
    from django.contrib.auth import get_user_model

    from agora.roster.models import Resident, Tenure
    from sessions.models import Participant
    from tests.factories import every_kind_of_person, resident_make
    from voting import rules, selectors

    everyone = every_kind_of_person(world)
    everyone["tenant"] = resident_make(world.community, "tenant1", tags=[world.car_owner], tenure=Tenure.TENANT)
    everyone["unverified"] = resident_make(world.community, "unverified1", tags=[world.car_owner])
    Resident.objects.filter(user=everyone["unverified"]).update(verified=False)
    everyone["removed"] = resident_make(world.community, "removed1", tags=[world.car_owner])
    Participant.objects.create(session=world.session, user=everyone["removed"], removed=True)
    everyone["no area"] = resident_make(
        world.community, "noarea1", tags=[world.car_owner], household=household_make(world.community, area="0.00")
    )
    everyone["inactive"] = resident_make(world.community, "inactive1", tags=[world.car_owner])
    get_user_model().objects.filter(pk=everyone["inactive"].pk).update(is_active=False)
    everyone["inactive"] = get_user_model().objects.get(pk=everyone["inactive"].pk)
    motion = open_motion(world.session, world.moderator, **rule)

    in_base = set(selectors.eligible_residents(motion).values_list("user_id", flat=True))
    households = selectors.eligible_households(motion)
    owner_areas = selectors.eligible_base(motion).owner_areas
    for name, user in everyone.items():
        standing = rules.voter_standing(user=user, motion=motion)
        if not user.is_authenticated or user.pk not in in_base:
            expected = False
        elif rule.get("kind") == "art278":
            expected = rules.owner_key_of(user.residencies.get().household) in owner_areas
        elif rule.get("ballot_unit") == "household":
            expected = user.residencies.get().household_id in households
        else:
            expected = True
        assert standing.eligible == expected, (name, standing.reason)
