"""vote_record, the one path of every channel: a unit counts once, whatever the channel."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections

from agora.infra import clock
from agora.infra.errors import Refused
from tests.voting.decisions.helpers import DecisionWorld, all_yes, choice_of, decision_world, draft_decision, open_decision, unit_of
from voting.decisions.ballots import vote_record
from voting.decisions.lifecycle import decision_announce, decision_close_due, decision_open_due
from voting.models import Ballot, Channel, DecisionVote, Participation, Resolution, SealedBallot
from voting.units import decision_unit, unit_key_for


def test_a_unit_that_voted_online_is_refused_on_paper_with_how_and_when(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[0])
    vote_record(decision=d, unit=unit, choices=all_yes(d), channel=Channel.ONLINE, voter=dw.owners[0])
    with pytest.raises(Refused) as refused:
        vote_record(decision=d, unit=unit, choices=choice_of(d, "no"), channel=Channel.PAPER, recorded_by=dw.clerk)
    assert refused.value.code == "already_voted"
    assert "在线" in str(refused.value)  # how it voted, in the default language
    assert DecisionVote.objects.filter(decision=d).count() == 1
    # A secret decision: what was voted is sealed, nothing of it beside who voted.
    assert SealedBallot.objects.filter(motion__decision=d).count() == 2 and not Ballot.objects.filter(motion__decision=d).exists()
    assert Participation.objects.filter(motion__decision=d, unit_key=unit.unit_key, ballot__isnull=True).count() == 2


def test_a_resend_of_the_same_online_ballot_gets_the_same_receipt(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[1])
    first = vote_record(decision=d, unit=unit, choices=all_yes(d), channel=Channel.ONLINE, voter=dw.owners[1], idempotency_key="k" * 24)
    again = vote_record(decision=d, unit=unit, choices=all_yes(d), channel=Channel.ONLINE, voter=dw.owners[1], idempotency_key="k" * 24)
    assert again.replayed and again.receipt == first.receipt and first.receipt


def test_a_unit_without_area_is_refused_under_art_278_with_the_reason(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    key = unit_key_for(mode=d.unit_mode, household_id=dw.no_area_household.pk, owner_key=dw.no_area_household.owner_key)
    unit = decision_unit(d, key)
    assert unit is not None and not unit.has_area
    with pytest.raises(Refused) as refused:
        vote_record(decision=d, unit=unit, choices=all_yes(d), channel=Channel.DOOR, recorded_by=dw.grid_worker)
    assert refused.value.code == "no_area" and "3号楼" in str(refused.value)


def test_no_ballot_before_the_start_or_after_the_end_however_it_arrives(dw: DecisionWorld) -> None:
    d = draft_decision(dw)
    decision_announce(decision=d, by=dw.moderator)
    d.refresh_from_db()
    unit = unit_of(d, dw.households[0])
    with pytest.raises(Refused) as early:
        vote_record(decision=d, unit=unit, choices=all_yes(d), channel=Channel.ONLINE, voter=dw.owners[0])
    assert early.value.code == "not_open"
    clock.advance((d.opens_at - clock.now()).total_seconds() + 1)
    assert decision_open_due(decision_id=d.pk)
    d.refresh_from_db()
    clock.advance((d.closes_at - clock.now()).total_seconds() + 1)  # the end passed; no job has run yet
    with pytest.raises(Refused) as late:
        vote_record(decision=d, unit=unit, choices=all_yes(d), channel=Channel.PAPER, recorded_by=dw.clerk)
    assert late.value.code == "closed"


def test_a_paper_ballot_dated_after_the_end_is_refused_like_a_late_ballot(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    with pytest.raises(Refused) as late:
        vote_record(
            decision=d,
            unit=unit_of(d, dw.households[2]),
            choices=all_yes(d),
            channel=Channel.PAPER,
            recorded_by=dw.clerk,
            filled_at=d.closes_at,
        )
    assert late.value.code == "closed"


def test_every_matter_needs_a_choice(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    choices = all_yes(d)
    choices.pop(next(iter(choices)))
    with pytest.raises(Refused) as refused:
        vote_record(decision=d, unit=unit_of(d, dw.households[0]), choices=choices, channel=Channel.ONLINE, voter=dw.owners[0])
    assert refused.value.code == "incomplete"
    assert not DecisionVote.objects.exists()


def test_the_count_takes_every_channel_once(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    channels = [Channel.ONLINE, Channel.PAPER, Channel.DOOR, Channel.IN_PERSON]
    for household, owner, channel in zip(dw.households, dw.owners, channels, strict=False):
        vote_record(decision=d, unit=unit_of(d, household), choices=all_yes(d), channel=channel, voter=owner, recorded_by=dw.clerk)
    clock.advance((d.closes_at - clock.now()).total_seconds() + 1)
    decision_close_due(decision_id=d.pk)
    art278 = Resolution.objects.get(motion__decision=d, motion__position=1)
    assert art278.data["art278"]["participating"]["owners"] == 4
    assert art278.data["art278"]["yes"]["area"] == "355.75"  # 80.50 + 95.00 + 120.25 + 60.00
    assert len(art278.receipt_hashes) == 4


@pytest.mark.django_db(transaction=True)
def test_two_channels_at_the_same_moment_exactly_one_wins() -> None:
    dw = decision_world()
    d = open_decision(dw)
    for round_ in range(10):
        household, owner = dw.households[round_ % 6], dw.owners[round_ % 6]
        DecisionVote.objects.filter(decision=d).delete()
        Participation.objects.filter(motion__decision=d).delete()
        SealedBallot.objects.filter(motion__decision=d).delete()
        unit = unit_of(d, household)
        results: list[str] = []
        barrier = threading.Barrier(2)

        def cast(channel: str, owner=owner, unit=unit, barrier=barrier, results=results) -> None:  # type: ignore[no-untyped-def]
            barrier.wait()
            try:
                vote_record(decision=d, unit=unit, choices=all_yes(d), channel=channel, voter=owner, recorded_by=dw.clerk)
                results.append("won")
            except Refused as refused:
                results.append(refused.code or "refused")
            finally:
                close_old_connections()

        threads = [threading.Thread(target=cast, args=(c,)) for c in (Channel.ONLINE, Channel.PAPER)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results) == ["already_voted", "won"], results
        assert DecisionVote.objects.filter(decision=d, unit_key=unit.unit_key).count() == 1
        assert Participation.objects.filter(motion__decision=d, unit_key=unit.unit_key).count() == 2
