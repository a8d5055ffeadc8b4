"""Motion and ballot services: every rule a voter or moderator would notice."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import Tenure
from sessions.models import SessionState
from tests.factories import World, household_make, resident_make
from tests.voting.helpers import (
    key,
    open_motion,
    option,
    stored_ballots,
    stored_choices,
    vote,
)
from voting import ballots, closing, services
from voting.models import Ballot, Motion, MotionState, Participation, Resolution
from voting.services import InPersonEntry

pytestmark = pytest.mark.django_db


def test_approve_reject_end_to_end(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    r1 = vote(motion, world.resident, "yes")
    r2 = vote(motion, world.resident2, "no")
    extra = resident_make(world.community, "res4", tags=[world.car_owner])
    r3 = vote(motion, extra, "yes")
    resolution = services.motion_close(motion=motion, by=world.moderator)
    assert resolution.outcome == "passed"
    data = resolution.data
    assert {o["code"]: o["total"] for o in data["options"]} == {"yes": 2, "no": 1, "abstain": 0}
    assert data["participation"]["online"] == 3 and data["participation"]["total"] == 3
    assert data["eligible"]["headcount"] == 3  # car owners only: res1, res2, res4
    assert sorted(resolution.receipt_hashes) == sorted(hashlib.sha256(r.receipt.encode()).hexdigest() for r in (r1, r2, r3))
    assert data["closed_by"] == world.moderator.get_username()
    assert len(r1.receipt) >= 22  # >= 128 random bits


def test_results_follow_the_threshold_and_base(world: World) -> None:
    motion = open_motion(world.session, world.moderator, base="yes_no_abstain", threshold="at_least_two_thirds")
    vote(motion, world.resident, "yes")
    vote(motion, world.resident2, "abstain")
    assert services.motion_close(motion=motion, by=world.moderator).outcome == "failed"  # 1/2 < 2/3


def test_a_tie_is_reported_as_a_tie(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    vote(motion, world.resident, "yes")
    vote(motion, world.resident2, "no")
    assert services.motion_close(motion=motion, by=world.moderator).outcome == "tie"


def test_quorum_not_reached(world: World) -> None:
    motion = open_motion(world.session, world.moderator, quorum_percent=100)
    vote(motion, world.resident, "yes")
    assert services.motion_close(motion=motion, by=world.moderator).outcome == "no_quorum"


@pytest.mark.parametrize("who", ["outsider", "other_resident", "observer", "moderator"])
def test_only_eligible_residents_vote(world: World, who: str) -> None:
    motion = open_motion(world.session, world.moderator)
    with pytest.raises(NotAllowed):
        vote(motion, getattr(world, who), "yes")
    assert not stored_ballots(motion) and Participation.objects.count() == 0


def test_owners_only_refuses_tenants(world: World) -> None:
    tenant = resident_make(world.community, "tenant", tags=[world.car_owner], tenure=Tenure.TENANT)
    motion = open_motion(world.session, world.moderator, eligibility="owners")
    with pytest.raises(NotAllowed, match=r"owners|业主"):
        vote(motion, tenant, "yes")
    vote(motion, world.resident, "yes")


def test_replay_returns_the_original_receipt_and_counts_once(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    idem = key()
    first = vote(motion, world.resident, "yes", idem=idem)
    again = vote(motion, world.resident, "yes", idem=idem)
    assert again.receipt == first.receipt and again.replayed
    assert len(stored_ballots(motion)) == 1


def test_second_submission_without_receipt_is_refused(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    vote(motion, world.resident, "yes")
    with pytest.raises(Refused) as info:
        vote(motion, world.resident, "no")
    assert info.value.code == "receipt_needed"
    assert stored_choices(motion) == [[option(motion, "yes")]]


def test_change_with_receipt_until_close(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    first = vote(motion, world.resident, "yes")
    changed = vote(motion, world.resident, "no", receipt=first.receipt)
    assert changed.changed and changed.receipt == first.receipt
    assert stored_choices(motion) == [[option(motion, "no")]]
    services.motion_close(motion=motion, by=world.moderator)
    with pytest.raises(Refused) as info:
        vote(motion, world.resident, "yes", receipt=first.receipt)
    assert info.value.code == "closed"


def test_someone_elses_receipt_cannot_change_my_ballot(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    mine = vote(motion, world.resident, "yes")
    theirs = vote(motion, world.resident2, "no")
    with pytest.raises(Refused):
        vote(motion, world.resident, "no", receipt=theirs.receipt)
    assert sorted(b["receipt_hash"] for b in stored_ballots(motion)) == sorted([mine.receipt_hash, theirs.receipt_hash])
    assert [b["choice"] for b in stored_ballots(motion) if b["receipt_hash"] == theirs.receipt_hash] == [[option(motion, "no")]]


def test_no_change_when_the_motion_forbids_it(world: World) -> None:
    motion = open_motion(world.session, world.moderator, allow_change=False)
    first = vote(motion, world.resident, "yes")
    with pytest.raises(Refused, match=r"does not allow|不允许"):
        vote(motion, world.resident, "no", receipt=first.receipt)


def test_secret_ballots_are_not_linked_open_ones_are(world: World) -> None:
    secret = open_motion(world.session, world.moderator, secret=True)
    vote(secret, world.resident, "yes")
    assert Participation.objects.get(motion=secret).ballot_id is None
    assert "voter" not in {f.name for f in Ballot._meta.get_fields()}
    assert "created_at" not in {f.name for f in Ballot._meta.get_fields()}
    assert Ballot._meta.pk.get_internal_type() == "UUIDField"
    public = open_motion(world.session, world.moderator, text="公开表决", secret=False)
    vote(public, world.resident, "no")
    p = Participation.objects.get(motion=public)
    assert p.ballot is not None and p.ballot.choice == [option(public, "no")]
    result = services.motion_close(motion=public, by=world.moderator)
    assert result.data["voters"] == [{"name": world.resident.get_username(), "choice": [option(public, "no")]}]
    assert "voters" not in services.motion_close(motion=secret, by=world.moderator).data


def test_one_ballot_per_household(world: World) -> None:
    household = world.resident.residencies.get().household
    spouse = resident_make(world.community, "spouse", tags=[world.car_owner], household=household)
    motion = open_motion(world.session, world.moderator, ballot_unit="household")
    vote(motion, world.resident, "yes")
    with pytest.raises(Refused, match=r"household|同户|一户"):
        vote(motion, spouse, "no")
    assert len(stored_ballots(motion)) == 1


def test_household_in_person_and_online_exclude_each_other(world: World) -> None:
    motion = open_motion(world.session, world.moderator, ballot_unit="household")
    h1 = world.resident.residencies.get().household
    h2 = world.resident2.residencies.get().household
    services.in_person_count_enter(
        motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "yes")], households=[h1])]
    )
    with pytest.raises(Refused) as info:
        vote(motion, world.resident, "no")
    assert info.value.code == "voted_in_person"
    vote(motion, world.resident2, "no")
    with pytest.raises(Refused, match=str(h2)):
        services.in_person_count_enter(
            motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "yes")], households=[h2])]
        )
    result = services.motion_close(motion=motion, by=world.moderator)
    yes = next(o for o in result.data["options"] if o["code"] == "yes")
    assert (yes["online"], yes["in_person"], yes["total"]) == (0, 1, 1)
    assert result.data["participation"] == {**result.data["participation"], "online": 1, "in_person": 1, "total": 2}
    assert len(result.receipt_hashes) == 1


def test_in_person_counts_are_recorded_with_who_entered_them(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    services.in_person_count_enter(motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "yes")], count=2)])
    count = motion.in_person_counts.get()
    assert count.entered_by == world.moderator and count.count == 2
    with pytest.raises(NotAllowed):
        services.in_person_count_enter(motion=motion, by=world.resident, entries=[InPersonEntry(choice=[option(motion, "no")], count=50)])
    assert motion.in_person_counts.count() == 1


def test_nothing_is_accepted_after_the_set_time_and_the_motion_closes(world: World) -> None:
    motion = open_motion(world.session, world.moderator, closes_at=timezone.now() + timedelta(minutes=5))
    vote(motion, world.resident, "yes")
    later = timezone.now() + timedelta(minutes=6)
    with mock.patch("django.utils.timezone.now", return_value=later), pytest.raises(Refused) as info:
        vote(motion, world.resident2, "yes")
    assert info.value.code == "closed"
    motion.refresh_from_db()
    assert motion.state == MotionState.CLOSED and motion.closed_at == motion.closes_at and motion.closed_by is None
    assert motion.resolution.data["participation"]["online"] == 1


def test_close_due_closes_only_what_is_due(world: World) -> None:
    due = open_motion(world.session, world.moderator, closes_at=timezone.now() + timedelta(minutes=1))
    not_due = open_motion(world.session, world.moderator, text="另一个", closes_at=timezone.now() + timedelta(hours=1))
    closed = closing.motion_close_due(now=timezone.now() + timedelta(minutes=2))
    assert closed == [due.pk]
    assert Motion.objects.get(pk=not_due.pk).state == MotionState.OPEN


def test_closing_twice_is_refused_and_the_result_is_computed_once(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    services.motion_close(motion=motion, by=world.moderator)
    with pytest.raises(Refused, match=r"already closed|已经结束"):
        services.motion_close(motion=motion, by=world.moderator)
    assert Resolution.objects.filter(motion=motion).count() == 1


def test_opening_needs_a_live_session(world: World) -> None:
    world.session.state = SessionState.SCHEDULED
    world.session.save()
    motion = services.motion_create(session=world.session, by=world.moderator, text="会前起草")
    assert motion.state == MotionState.DRAFT
    with pytest.raises(Refused, match=r"live|进行中"):
        services.motion_open(motion=motion, by=world.moderator)


@pytest.mark.parametrize("action", ["create", "open", "close", "discard", "in_person"])
def test_residents_cannot_act_as_moderators(world: World, action: str) -> None:
    draft = services.motion_create(session=world.session, by=world.moderator, text="草稿")
    live = open_motion(world.session, world.moderator, text="进行中")
    calls = {
        "create": lambda: services.motion_create(session=world.session, by=world.resident, text="x"),
        "open": lambda: services.motion_open(motion=draft, by=world.resident),
        "close": lambda: services.motion_close(motion=live, by=world.resident),
        "discard": lambda: services.motion_discard(motion=draft, by=world.resident),
        "in_person": lambda: services.in_person_count_enter(
            motion=live, by=world.resident, entries=[InPersonEntry(choice=[option(live, "yes")], count=9)]
        ),
    }
    with pytest.raises(NotAllowed):
        calls[action]()
    assert Motion.objects.get(pk=draft.pk).state == MotionState.DRAFT
    assert Motion.objects.get(pk=live.pk).state == MotionState.OPEN
    assert Motion.objects.count() == 2 and not live.in_person_counts.exists()


def test_single_choice_approval_and_ranked(world: World) -> None:
    extra = resident_make(world.community, "res4", tags=[world.car_owner])
    single = open_motion(world.session, world.moderator, text="选一个", kind="single", options=["东门", "西门", "北门"])
    vote(single, world.resident, "东门")
    vote(single, world.resident2, "西门")
    vote(single, extra, "东门")
    result = services.motion_close(motion=single, by=world.moderator)
    assert result.outcome == "winner" and result.data["winner"] == option(single, "东门")

    approval = open_motion(world.session, world.moderator, text="可多选", kind="approval", options=["A", "B", "C"], max_choices=2)
    with pytest.raises(Refused):
        vote(approval, world.resident, "A", "B", "C")
    vote(approval, world.resident, "A", "B")
    vote(approval, world.resident2, "B")
    result = services.motion_close(motion=approval, by=world.moderator)
    assert result.data["winner"] == option(approval, "B")

    ranked = open_motion(world.session, world.moderator, text="排序", kind="ranked", options=["A", "B", "C"])
    vote(ranked, world.resident, "A", "C")
    vote(ranked, world.resident2, "B", "C")
    vote(ranked, extra, "C", "B")
    result = services.motion_close(motion=ranked, by=world.moderator)
    # C has the fewest first preferences? No: all have one each; the rules decide a tie or not.
    assert result.outcome in {"winner", "tie"}
    assert result.data["rounds"] and result.data["rounds"][0]["counts"]


def test_ranked_instant_runoff_transfers(world: World) -> None:
    voters = [resident_make(world.community, f"r{i}", tags=[world.car_owner]) for i in range(5)]
    ranked = open_motion(world.session, world.moderator, text="排序", kind="ranked", options=["A", "B", "C"])
    for user, prefs in zip(voters, [("A",), ("A",), ("B", "C"), ("B",), ("C", "B")], strict=True):
        vote(ranked, user, *prefs)
    result = services.motion_close(motion=ranked, by=world.moderator)
    assert result.outcome == "winner" and result.data["winner"] == option(ranked, "B")
    assert len(result.data["rounds"]) == 2


def test_art278_counts_owners_once_and_sums_areas(world: World) -> None:
    c = world.community
    # Owner K holds two units (100 + 50 m²); two other owners 80 m² each; a tenant cannot vote.
    k1 = household_make(c, room="901", area="100.00", owner_key="K")
    k2 = household_make(c, room="902", area="50.00", owner_key="K")
    owner_k = resident_make(c, "ownerk", household=k1)
    resident_make(c, "ownerk2", household=k2)
    tenant = resident_make(c, "tenant", tenure=Tenure.TENANT)
    motion = open_motion(world.session, world.moderator, kind="art278", major_matter=True)
    with pytest.raises(NotAllowed):
        vote(motion, tenant, "yes")
    vote(motion, owner_k, "yes")
    with pytest.raises(Refused):  # same owner, other unit: counted once
        vote(motion, _user("ownerk2"), "yes")
    result = services.motion_close(motion=motion, by=world.moderator)
    art = result.data["art278"]
    assert art["yes"] == {"owners": 1, "area": "150.00"}
    assert art["participating"]["owners"] == 1
    total_owners = art["eligible"]["owners"]
    assert total_owners == c.residents.values("household__owner_key").distinct().count()
    assert result.outcome == "no_quorum"
    assert Decimal(art["eligible"]["area"]) > Decimal("150")


def _user(username: str):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_receipts_count_equals_online_tally(world: World) -> None:
    resident_make(world.community, "res5", tags=[world.car_owner])  # eligible: votes in the room
    motion = open_motion(world.session, world.moderator)
    vote(motion, world.resident, "yes")
    vote(motion, world.resident2, "no")
    services.in_person_count_enter(motion=motion, by=world.moderator, entries=[InPersonEntry(choice=[option(motion, "abstain")], count=1)])
    result = services.motion_close(motion=motion, by=world.moderator)
    online = sum(o["online"] for o in result.data["options"])
    assert len(result.receipt_hashes) == result.data["receipts"] == online == result.data["participation"]["online"] == 2


def test_bad_idempotency_key_is_refused_clearly(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    with pytest.raises(Refused) as info:
        ballots.ballot_cast(motion=motion, voter=world.resident, choice=[option(motion, "yes")], idempotency_key="1")
    assert info.value.code == "bad_key"


def test_no_ballots_once_the_session_is_adjourned(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    world.session.state = SessionState.ADJOURNED
    world.session.save()
    with pytest.raises(Refused) as info:
        vote(motion, world.resident, "yes")
    assert info.value.code == "closed" and not stored_ballots(motion)
    services.motion_close(motion=motion, by=world.moderator)  # the moderator can still close it


def test_close_due_motions_command(world: World) -> None:
    from io import StringIO

    from django.core.management import call_command

    motion = open_motion(world.session, world.moderator, closes_at=timezone.now() + timedelta(minutes=1))
    out = StringIO()
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=2)):
        call_command("close_due_motions", stdout=out)
    assert "closed 1" in out.getvalue()
    assert Motion.objects.get(pk=motion.pk).state == MotionState.CLOSED


@pytest.mark.django_db
def test_a_motion_id_given_again_after_a_rollback_offers_its_own_options(world: World) -> None:
    """A process keeps each motion's options (the ballot's fast path); a motion created and
    rolled back, whose id is then given to another (SQLite reuses it), must not lend the new
    motion its options: the voter's choice of the new motion is counted, not refused."""
    from django.db import transaction

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        first = open_motion(world.session, world.moderator, text="选一个门", kind="single", options=["东门", "西门"])
        vote(first, world.resident, "东门")  # its options are now kept by the process
        raise RolledBack
    second = open_motion(world.session, world.moderator, text="选一种颜色", kind="single", options=["红", "蓝", "绿"])
    vote(second, world.resident, "绿")  # an option the first motion did not have
    assert stored_choices(second) == [[option(second, "绿")]]
