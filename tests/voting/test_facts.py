"""The one-query voter facts (voting/facts.py): the rules decide as the session rules do, and a
ballot costs a fixed, small number of statements (the cost a 2,000-voter burst pays 2,000 times)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from agora.roster.models import Household, Resident, Tenure
from sessions import rules as session_rules
from sessions.models import Participant, SessionState, TopicSession
from tests.factories import World, every_kind_of_person
from tests.voting.helpers import key, open_motion, option
from voting import ballots, live, rules, services
from voting.facts import motion_with_facts
from voting.models import Motion, MotionState

pytestmark = pytest.mark.django_db


def test_who_sees_a_motion_agrees_with_the_session_rules_everywhere(world: World) -> None:
    """Moderators see every motion; whoever may follow the session (a removed person may not
    while it runs) sees the opened ones."""
    session = world.session
    draft = services.motion_create(session=session, by=world.moderator, text="草稿")
    opened = open_motion(session, world.moderator, text="表决中")
    everyone = every_kind_of_person(world)
    checked = 0
    for state, audience, removed in itertools.product(SessionState.values, ([], [world.car_owner]), (False, True)):
        TopicSession.objects.filter(pk=session.pk).update(state=state)
        session.audience_tags.set(audience)
        Participant.objects.filter(session=session).delete()
        if removed:
            for name in ("observer", "resident", "outsider"):
                Participant.objects.create(session=session, user=everyone[name], removed=True)
        fresh = TopicSession.objects.get(pk=session.pk)
        for motion in (draft, opened):
            motion = Motion.objects.select_related("session").get(pk=motion.pk)
            for name, user in everyone.items():
                if user.is_authenticated:
                    user.__dict__.pop("_agora_roles", None)  # community_role's per-object cache
                want = session_rules.can_moderate(user=user, session=fresh) or (
                    motion.state != MotionState.DRAFT and session_rules.can_follow(user=user, session=fresh)
                )
                assert rules.can_see_motion(user=user, motion=motion) == want, (name, state, audience, removed, motion.state)
                checked += 1
    assert checked == len(SessionState.values) * 2 * 2 * 2 * len(everyone)


def test_the_facts_of_a_resident(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    household = Resident.objects.get(user=world.resident).household
    Household.objects.filter(pk=household.pk).update(exclusive_area=Decimal("88.5"), owner_key="K-88")
    found = motion_with_facts(user=world.resident, session_id=world.session.pk, motion_id=motion.pk)
    assert found is not None
    got, facts = found
    assert got.pk == motion.pk and got.state == MotionState.OPEN
    assert facts.household is not None and facts.household.pk == household.pk
    assert facts.household.exclusive_area == Decimal("88.50") and facts.household.owner_key == "K-88"
    assert facts.verified and facts.tenure == Tenure.OWNER
    assert facts.session.is_resident and facts.session.tag_match and not facts.session.removed
    # Another session's id, or a motion that does not exist: nothing.
    assert motion_with_facts(user=world.resident, session_id=world.session.pk + 1000, motion_id=motion.pk) is None
    assert motion_with_facts(user=world.resident, session_id=world.session.pk, motion_id=motion.pk + 1000) is None


def test_a_motion_deleted_under_the_caller_is_not_found_not_a_server_error(world: World) -> None:
    """A view loaded the draft; the moderator discarded it before the rules read the facts."""
    draft = services.motion_create(session=world.session, by=world.moderator, text="草稿")
    loaded = Motion.objects.select_related("session").get(pk=draft.pk)
    Motion.objects.filter(pk=draft.pk).delete()
    with pytest.raises(Http404):
        rules.can_see_motion(user=world.moderator, motion=loaded)
    with pytest.raises(Http404):
        rules.voter_standing(user=world.resident, motion=loaded)


@translation.override("en")
def test_tenants_the_unverified_and_the_removed_are_refused_with_their_reason(world: World) -> None:
    motion = open_motion(world.session, world.moderator, eligibility="owners")
    Resident.objects.filter(user=world.resident).update(tenure=Tenure.TENANT)
    assert "owners" in str(rules.voter_standing(user=world.resident, motion=motion).reason)
    Resident.objects.filter(user=world.resident2).update(verified=False)
    assert "verified" in str(rules.voter_standing(user=world.resident2, motion=motion).reason)
    audience_motion = open_motion(world.session, world.moderator, text="第二项")
    Participant.objects.create(session=world.session, user=world.resident, removed=True)
    assert "removed" in str(rules.voter_standing(user=world.resident, motion=audience_motion).reason)


def test_a_live_ballot_is_a_fixed_handful_of_statements(world: World) -> None:
    """The facts, then the locked write: before voting/facts.py a ballot took 17 statements (and
    BEGIN and COMMIT); the options are read once per motion and process."""
    motion = open_motion(world.session, world.moderator, secret=True)
    yes = option(motion, "yes")

    def cast(user: object) -> ballots.CastResult:
        found, facts = live._motion_and_facts(world.session.pk, motion.pk, user)
        return ballots.ballot_cast(motion=found, facts=facts, voter=user, choice=[yes], idempotency_key=key())  # type: ignore[arg-type]

    cast(world.resident)
    with CaptureQueriesContext(connection) as queries:
        result = cast(world.resident2)
    assert result.receipt
    # BEGIN/COMMIT (SAVEPOINT/RELEASE inside the test's own transaction) are not counted.
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    # The facts; the motion locked with this unit's participation; the ballot; the participation.
    assert len(statements) == 4, "\n".join(s[:120] for s in statements)
