"""Paper ballots as the services run them: codes, the register, entry once and twice, review,
void, conflicts and every bad input with its sentence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from agora.infra import clock
from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import AuditEvent
from tests.voting.decisions.helpers import DecisionWorld, all_yes, choice_of, draft_decision, open_decision, unit_of
from voting.decisions.ballots import vote_record
from voting.decisions.lifecycle import decision_announce
from voting.decisions.paper import codes
from voting.decisions.paper.selectors import paper_conflicts, paper_summary, register_rows
from voting.decisions.paper.services import paper_enter, paper_issue, paper_prepare, paper_review, paper_void, review_readings
from voting.models import Ballot, BallotCode, Channel, DecisionVote, PaperEntry, Participation, SealedBallot, VoteState


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def code_of(d, household) -> str:  # type: ignore[no-untyped-def]
    return BallotCode.objects.get(decision=d, unit_key=unit_of(d, household).unit_key).code


# --- codes ---------------------------------------------------------------------------------------


def test_a_code_has_50_bits_in_an_alphabet_without_0_o_1_i_and_its_check_catches_every_typo() -> None:
    code = codes.code_new()
    assert len(code) == 11 and codes.code_valid(code)
    assert not set(code) & set("01OI")
    assert codes.code_printed(code).count("-") == 2
    for i in range(len(code)):  # every single wrong character
        for wrong in codes.ALPHABET:
            if wrong != code[i]:
                assert not codes.code_valid(code[:i] + wrong + code[i + 1 :])
    for i in range(len(code) - 1):  # every swap of two neighbours that differ
        if code[i] != code[i + 1]:
            assert not codes.code_valid(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


def test_what_a_scanner_types_is_read_back_to_its_code() -> None:
    code = codes.code_new()
    assert codes.code_typed(f"https://agora.example/decisions/4/paper/enter/?code={code}") == code
    assert codes.code_typed(" " + codes.code_printed(code).lower() + "\n") == code


# --- preparing and the register --------------------------------------------------------------------


def test_preparing_makes_one_code_per_unit_once_after_the_announcement(dw: DecisionWorld) -> None:
    d = draft_decision(dw)
    with pytest.raises(Refused):
        paper_prepare(decision=d, by=dw.moderator)
    decision_announce(decision=d, by=dw.moderator)
    assert paper_prepare(decision=d, by=dw.moderator) == 7
    first = set(BallotCode.objects.filter(decision=d).values_list("code", flat=True))
    assert paper_prepare(decision=d, by=dw.moderator) == 0
    assert set(BallotCode.objects.filter(decision=d).values_list("code", flat=True)) == first
    assert all(codes.code_valid(c) for c in first)


@pytest.mark.parametrize("who", ["owner", "tenant", "grid_worker", "outsider"])
def test_only_a_moderator_of_the_community_prepares_issues_and_enters(dw: DecisionWorld, who: str) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    user = {"owner": dw.owners[0], "tenant": dw.tenant, "grid_worker": dw.grid_worker, "outsider": dw.outsider}[who]
    with pytest.raises(NotAllowed):
        paper_prepare(decision=d, by=user)
    with pytest.raises(NotAllowed):
        paper_issue(decision=d, by=user, unit_keys=[unit_of(d, dw.households[0]).unit_key], issued_to="本人")
    with pytest.raises(NotAllowed):
        paper_enter(decision=d, by=user, typed_code=code_of(d, dw.households[0]), choices=all_yes(d))
    assert not DecisionVote.objects.exists()


def test_the_register_shows_issued_and_returned_ballots(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    keys = [unit_of(d, h).unit_key for h in dw.households[:2]]
    assert paper_issue(decision=d, by=dw.moderator, unit_keys=keys, issued_to="网格员王芳") == 2
    assert paper_issue(decision=d, by=dw.moderator, unit_keys=keys, issued_to="又一次") == 0  # the first issue stays
    paper_enter(decision=d, by=dw.clerk, typed_code=code_of(d, dw.households[0]), choices=all_yes(d))
    building_1 = dw.households[0].building_id
    rows = {r.unit.unit_key: r for r in register_rows(d, building_id=building_1)}
    assert len(rows) == 3
    assert rows[keys[0]].code.issued_to == "网格员王芳" and rows[keys[0]].code.returned_by == dw.clerk
    assert str(rows[keys[0]].status) == "entered, counted"
    assert str(rows[keys[1]].status) == "issued, not returned"
    s = paper_summary(d, units=7)
    assert (s.codes, s.issued, s.returned, s.counted) == (7, 2, 1, 1)


# --- entry ---------------------------------------------------------------------------------------------


def test_a_single_entry_counts_the_ballot_like_any_channel(dw: DecisionWorld) -> None:
    d = open_decision(dw, secret=False)
    paper_prepare(decision=d, by=dw.moderator)
    entered = paper_enter(decision=d, by=dw.clerk, typed_code=codes.code_printed(code_of(d, dw.households[0])), choices=all_yes(d))
    assert entered.outcome == "counted" and "1号楼-1-101" in entered.sentence
    vote = DecisionVote.objects.get(decision=d)
    assert (vote.channel, vote.state, vote.recorded_by) == (Channel.PAPER, VoteState.COUNTED, dw.clerk)
    assert PaperEntry.objects.get(vote=vote).entered_by == dw.clerk
    assert Participation.objects.filter(motion__decision=d, channel=Channel.PAPER).count() == 2
    assert Ballot.objects.filter(motion__decision=d).count() == 2
    assert AuditEvent.objects.filter(kind="decision.paper_entered", actor=dw.clerk).exists()


def test_a_code_typed_wrong_of_another_decision_or_used_is_refused_with_a_sentence(dw: DecisionWorld) -> None:
    other = draft_decision(dw)
    decision_announce(decision=other, by=dw.moderator)
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    paper_prepare(decision=other, by=dw.moderator)
    good = code_of(d, dw.households[0])
    typo = good[:3] + ("A" if good[3] != "A" else "B") + good[4:]
    cases = {
        "code_typo": typo,
        "code_other": code_of(other, dw.households[0]),
        "code_unknown": "23456789AB" + codes.check_character("23456789AB"),
        "no_code": "  ",
    }
    for expected, typed in cases.items():
        with pytest.raises(Refused) as refused:
            paper_enter(decision=d, by=dw.clerk, typed_code=typed, choices=all_yes(d))
        assert refused.value.code == expected
    assert "typed wrong" in _sentence(d, dw, typo)
    assert "another decision (关于增设停车位的业主共同决定)" in _sentence(d, dw, code_of(other, dw.households[0]))
    paper_enter(decision=d, by=dw.clerk, typed_code=good, choices=all_yes(d))
    with pytest.raises(Refused) as used:
        paper_enter(decision=d, by=dw.moderator, typed_code=good, choices=all_yes(d))
    assert used.value.code == "code_used" and "already entered" in str(used.value)
    assert DecisionVote.objects.filter(decision=d).count() == 1


def _sentence(d, dw, typed) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused) as refused:
        paper_enter(decision=d, by=dw.clerk, typed_code=typed, choices=all_yes(d))
    return str(refused.value)


def test_a_ballot_after_the_end_or_dated_after_it_is_refused(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    late_date = timezone.localtime(d.closes_at + timedelta(days=1)).date()
    with pytest.raises(Refused) as dated:
        paper_enter(decision=d, by=dw.clerk, typed_code=code_of(d, dw.households[0]), choices=all_yes(d), filled_on=late_date)
    assert dated.value.code == "closed"
    clock.advance((d.closes_at - clock.now()).total_seconds() + 1)
    with pytest.raises(Refused) as late:
        paper_enter(decision=d, by=dw.clerk, typed_code=code_of(d, dw.households[1]), choices=all_yes(d))
    assert late.value.code == "closed" and "closed at" in str(late.value)
    assert not DecisionVote.objects.exists()


def test_a_unit_without_an_area_is_refused_in_an_art_278_decision(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    with pytest.raises(Refused) as refused:
        paper_enter(decision=d, by=dw.clerk, typed_code=code_of(d, dw.no_area_household), choices=all_yes(d))
    assert refused.value.code == "no_area" and "3号楼-1-102" in str(refused.value)


def test_a_paper_ballot_of_a_unit_that_voted_online_goes_to_the_conflict_list(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    unit = unit_of(d, dw.households[0])
    vote_record(decision=d, unit=unit, choices=choice_of(d, "no"), channel=Channel.ONLINE, voter=dw.owners[0])
    entered = paper_enter(decision=d, by=dw.clerk, typed_code=code_of(d, dw.households[0]), choices=None)
    assert entered.outcome == "conflict"
    (conflict,) = paper_conflicts(d)
    assert conflict.vote is not None and conflict.vote.channel == Channel.ONLINE and conflict.returned_by == "clerk"
    assert DecisionVote.objects.filter(decision=d).count() == 1  # nothing counted silently
    assert SealedBallot.objects.filter(motion__decision=d).count() == 2


def test_double_entry_counts_only_when_a_second_clerk_agrees(dw: DecisionWorld) -> None:
    d = open_decision(dw, double_entry=True)
    paper_prepare(decision=d, by=dw.moderator)
    code = code_of(d, dw.households[0])
    assert paper_enter(decision=d, by=dw.moderator, typed_code=code, choices=all_yes(d)).outcome == "held"
    vote = DecisionVote.objects.get(decision=d)
    assert vote.state == VoteState.AWAITING_CHECK and not SealedBallot.objects.exists()
    with pytest.raises(Refused) as same:
        paper_enter(decision=d, by=dw.moderator, typed_code=code, choices=all_yes(d))
    assert same.value.code == "same_clerk"
    assert paper_enter(decision=d, by=dw.clerk, typed_code=code, choices=all_yes(d)).outcome == "confirmed"
    vote.refresh_from_db()
    assert vote.state == VoteState.COUNTED and vote.pending is None
    assert SealedBallot.objects.filter(motion__decision=d).count() == 2
    assert [(e.round, e.entered_by) for e in PaperEntry.objects.filter(vote=vote)] == [(1, dw.moderator), (2, dw.clerk)]


def test_a_mismatch_waits_for_review_and_counts_the_moderators_reading(dw: DecisionWorld) -> None:
    d = open_decision(dw, double_entry=True)
    paper_prepare(decision=d, by=dw.moderator)
    code = code_of(d, dw.households[1])
    paper_enter(decision=d, by=dw.moderator, typed_code=code, choices=all_yes(d))
    assert paper_enter(decision=d, by=dw.clerk, typed_code=code, choices=choice_of(d, "no")).outcome == "mismatch"
    vote = DecisionVote.objects.get(decision=d)
    assert vote.state == VoteState.MISMATCH and not SealedBallot.objects.exists()
    first, second = review_readings(vote)
    assert first == all_yes(d) and second == choice_of(d, "no")
    with pytest.raises(Refused) as waiting:
        paper_enter(decision=d, by=dw.moderator, typed_code=code, choices=all_yes(d))
    assert waiting.value.code == "mismatch"
    with pytest.raises(NotAllowed):
        paper_review(vote=vote, by=dw.grid_worker, choices=choice_of(d, "no"))
    paper_review(vote=vote, by=dw.moderator, choices=choice_of(d, "no"))
    vote.refresh_from_db()
    assert vote.state == VoteState.COUNTED
    assert PaperEntry.objects.filter(vote=vote).count() == 3
    assert AuditEvent.objects.filter(kind="decision.paper_reviewed", actor=dw.moderator).exists()


def test_a_void_needs_a_reason_takes_the_ballot_out_and_the_unit_votes_again(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    paper_enter(decision=d, by=dw.clerk, typed_code=code_of(d, dw.households[0]), choices=all_yes(d))
    vote = DecisionVote.objects.get(decision=d)
    with pytest.raises(Refused):
        paper_void(vote=vote, by=dw.moderator, reason="  ")
    with pytest.raises(NotAllowed):
        paper_void(vote=vote, by=dw.owners[0], reason="错录")
    paper_void(vote=vote, by=dw.moderator, reason="录入时选错了户")
    vote.refresh_from_db()
    assert vote.state == VoteState.VOIDED and vote.void_reason == "录入时选错了户" and vote.voided_by == dw.moderator
    assert not SealedBallot.objects.filter(motion__decision=d).exists()
    assert not Participation.objects.filter(motion__decision=d).exists()
    event = AuditEvent.objects.get(kind="decision.paper_voided")
    assert event.detail["reason"] == "录入时选错了户"
    recorded = vote_record(decision=d, unit=unit_of(d, dw.households[0]), choices=all_yes(d), channel=Channel.ONLINE, voter=dw.owners[0])
    assert recorded.vote.state == VoteState.COUNTED


def test_a_void_after_the_close_is_refused(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    paper_enter(decision=d, by=dw.clerk, typed_code=code_of(d, dw.households[0]), choices=all_yes(d))
    clock.advance((d.closes_at - clock.now()).total_seconds() + 1)
    with pytest.raises(Refused) as refused:
        paper_void(vote=DecisionVote.objects.get(decision=d), by=dw.moderator, reason="错录")
    assert refused.value.code == "closed"
    assert DecisionVote.objects.get(decision=d).state == VoteState.COUNTED
