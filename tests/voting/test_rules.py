"""Permission predicates for votes, one behaviour each."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agora.roster.models import Tenure
from sessions.models import Participant
from tests.factories import World, household_make, resident_make
from tests.voting.helpers import open_motion
from voting import rules, services

pytestmark = pytest.mark.django_db


def test_only_the_communitys_moderators_manage_motions(world: World) -> None:
    assert rules.can_manage_motions(user=world.moderator, session=world.session)
    for user in (world.resident, world.observer, world.other_moderator, world.outsider):
        assert not rules.can_manage_motions(user=user, session=world.session)


def test_drafts_are_seen_by_moderators_only(world: World) -> None:
    draft = services.motion_create(session=world.session, by=world.moderator, text="草稿")
    assert rules.can_see_motion(user=world.moderator, motion=draft)
    assert not rules.can_see_motion(user=world.resident, motion=draft)
    live = open_motion(world.session, world.moderator, text="表决中")
    assert rules.can_see_motion(user=world.resident, motion=live)
    assert rules.can_see_motion(user=world.observer, motion=live)
    assert not rules.can_see_motion(user=world.outsider, motion=live)  # not in the audience


def test_audience_residents_vote_others_do_not(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    assert rules.can_vote(user=world.resident, motion=motion)
    assert rules.can_vote(user=world.resident2, motion=motion)
    for who, reason in [("outsider", "audience"), ("observer", "Observers"), ("other_resident", "residents"), ("moderator", "residents")]:
        standing = rules.voter_standing(user=getattr(world, who), motion=motion)
        assert not standing.eligible
        from django.utils import translation

        with translation.override("en"):
            assert reason in str(standing.reason)


def test_removed_and_unverified_residents_cannot_vote(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    Participant.objects.create(session=world.session, user=world.resident, removed=True)
    assert not rules.can_vote(user=world.resident, motion=motion)
    r = world.resident2.residencies.get()
    r.verified = False
    r.save()
    assert not rules.can_vote(user=world.resident2, motion=motion)


def test_owners_only(world: World) -> None:
    tenant = resident_make(world.community, "tenant", tags=[world.car_owner], tenure=Tenure.TENANT)
    motion = open_motion(world.session, world.moderator, eligibility="owners")
    assert not rules.can_vote(user=tenant, motion=motion)
    assert rules.can_vote(user=world.resident, motion=motion)


def test_voting_units(world: World) -> None:
    person = open_motion(world.session, world.moderator, text="a")
    household = open_motion(world.session, world.moderator, text="b", ballot_unit="household", weight_mode="area")
    home = world.resident.residencies.get().household
    assert rules.voter_standing(user=world.resident, motion=person).unit.unit_key == f"u:{world.resident.pk}"
    unit = rules.voter_standing(user=world.resident, motion=household).unit
    assert unit.unit_key == f"h:{home.pk}" and unit.weight == Decimal("80.00")


def test_art278_unit_is_the_owner_with_all_their_area(world: World) -> None:
    a = household_make(world.community, room="1201", area="90.50", owner_key="Z")
    household_make(world.community, room="1202", area="60.25", owner_key="Z")
    owner = resident_make(world.community, "z", household=a)
    motion = open_motion(world.session, world.moderator, kind="art278")
    unit = rules.voter_standing(user=owner, motion=motion).unit
    assert unit.unit_key == "o:Z" and unit.area == Decimal("150.75")
    # Art. 278 is for owners of the community, whatever the session's audience tags.
    assert rules.can_vote(user=world.outsider, motion=motion)


def test_art278_unit_without_area_is_refused(world: World) -> None:
    h = household_make(world.community, room="1301", area="0", owner_key="N")
    owner = resident_make(world.community, "n", household=h)
    motion = open_motion(world.session, world.moderator, kind="art278")
    assert not rules.can_vote(user=owner, motion=motion)
