"""Who may vote, and the eligible base: the predicate (``voting.rules.standing_of``, one person,
an online ballot) and the queryset filter beside it (``eligible_residents`` /
``eligible_households``: the base, the room's households) agree on every kind of person, for
every kind of motion eligibility and session audience. An inactive account may not vote and
is not in the base (docs/voting.md, "Eligible base")."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from agora.roster.models import Resident
from sessions.models import TopicSession
from tests.factories import World
from tests.rules_people import every_kind_of_person, mark_participants
from tests.voting.helpers import open_motion, vote
from voting import rules, selectors, services

pytestmark = pytest.mark.django_db

KINDS = {
    "audience, by person": {},
    "owners, by household": {"eligibility": "owners", "ballot_unit": "household"},
    "audience, by household area": {"ballot_unit": "household", "weight_mode": "area"},
    "owners, by person": {"eligibility": "owners"},
    "art278": {"kind": "art278"},
}

# A vote of the car owners' session, by person: who may vote.
# A grid worker who lives here votes as a resident; one who does not has no household to vote for.
VOTERS = {"owner", "owner2", "tenant", "household member", "no floor area", "moderator resident", "muted resident", "grid worker resident"}


@pytest.mark.parametrize("audience", ["car owners", "everyone"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_the_ballot_and_the_base_agree_on_everyone(world: World, kind: str, audience: str) -> None:
    people = every_kind_of_person(world)
    mark_participants(world.session, people)
    if audience == "everyone":
        world.session.audience_tags.clear()
    motion = open_motion(world.session, world.moderator, **KINDS[kind])
    in_base = set(rules.eligible_residents(motion).values_list("user_id", flat=True))
    households = rules.eligible_households(motion)
    base = selectors.eligible_base(motion)
    units: set[str] = set()
    for name, user in people.items():
        standing = rules.voter_standing(user=user, motion=motion)
        if standing.unit is not None:
            units.add(standing.unit.unit_key)
        if not user.is_authenticated or user.pk not in in_base:
            expected = False
        elif kind == "art278":
            expected = rules.owner_key_of(Resident.objects.get(user=user).household) in base.owner_areas
        elif KINDS[kind].get("ballot_unit") == "household":
            expected = Resident.objects.get(user=user).household_id in households
        else:
            expected = True
        assert standing.eligible == expected, (name, kind, audience, str(standing.reason))
    if kind == "audience, by person" and audience == "car owners":
        assert {name for name, user in people.items() if rules.voter_standing(user=user, motion=motion).eligible} == VOTERS
    if kind != "art278":  # Art. 278 counts every owner's area on record, registered or not
        assert base.headcount == len(units), (kind, audience)


def test_an_inactive_resident_may_not_vote_and_is_not_in_the_base(world: World) -> None:
    """The decision (docs/voting.md): a deactivated account can never log in to vote, so it is
    not eligible and not counted in the "all eligible" base; a household whose only resident
    is inactive is no unit of a household vote."""
    motion = open_motion(world.session, world.moderator, base="all_eligible")
    household_vote = open_motion(world.session, world.moderator, text="一户一票", ballot_unit="household", base="all_eligible")
    assert selectors.eligible_base(motion).headcount == 2 and selectors.eligible_base(household_vote).headcount == 2
    get_user_model().objects.filter(pk=world.resident2.pk).update(is_active=False)
    inactive = get_user_model().objects.get(pk=world.resident2.pk)
    with translation.override("en"):
        assert "deactivated" in str(rules.voter_standing(user=inactive, motion=motion).reason)
    assert selectors.eligible_base(motion).headcount == 1
    assert selectors.eligible_base(household_vote).headcount == 1
    vote(motion, world.resident, "yes")
    result = services.motion_close(motion=motion, by=world.moderator)
    assert result.data["eligible"]["headcount"] == 1 and result.outcome == "passed"


def test_a_session_without_audience_tags_lets_every_resident_vote(world: World) -> None:
    TopicSession.objects.get(pk=world.session.pk).audience_tags.clear()
    motion = open_motion(world.session, world.moderator)
    assert rules.voter_standing(user=world.outsider, motion=motion).eligible
    assert world.outsider.pk in set(rules.eligible_residents(motion).values_list("user_id", flat=True))
