"""Races of paper ballots between real processes, on the test database (SQLite in the embedded
pass, PostgreSQL in the production pass): a paper entry and an online ballot of one unit at
the same moment — exactly one wins, every time, and a losing paper ballot is a conflict, not
counted; three clerks entering the same returned ballots at once — none lost, none doubled."""

from __future__ import annotations

import multiprocessing
import queue
import random
from typing import Any

import pytest
from django.conf import settings
from django.db import close_old_connections

from agora.roster.models import Role
from tests.factories import household_make, resident_make, staff_make
from tests.servers import server_env
from tests.voting.decisions import paper_race
from tests.voting.decisions.helpers import all_yes, decision_world, open_decision, unit_of
from voting.decisions.paper.selectors import paper_conflicts
from voting.decisions.paper.services import paper_prepare
from voting.models import BallotCode, Channel, DecisionVote, PaperEntry, Participation, VoteState

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 20


def _env() -> dict[str, str]:
    env = server_env()
    env["AGORA_TEST_CLOCK_FILE"] = settings.AGORA_TEST_CLOCK_FILE
    env["AGORA_VOTING_TIMERS"] = "0"
    return env


def _drain(results: Any, n: int) -> list[tuple[str, str, str]]:
    got = []
    for _ in range(n):
        try:
            got.append(results.get(timeout=120))
        except queue.Empty:
            break
    return got


def test_a_paper_entry_and_an_online_ballot_at_the_same_moment_exactly_one_wins_every_time() -> None:
    dw = decision_world()
    households = [household_make(dw.community, building="5号楼", room=f"{i + 1:02d}01", area="70.00") for i in range(ROUNDS)]
    owners = [resident_make(dw.community, f"race{i}", household=h) for i, h in enumerate(households)]
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    units = [unit_of(d, h) for h in households]
    codes = [BallotCode.objects.get(decision=d, unit_key=u.unit_key).code for u in units]
    choices = all_yes(d)
    close_old_connections()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    env = _env()
    clerk = ctx.Process(target=paper_race.paper_clerk, args=(env, d.pk, dw.clerk.pk, codes, choices, barrier, results))
    owner = ctx.Process(
        target=paper_race.online_owner,
        args=(env, d.pk, [(u.unit_key, o.pk) for u, o in zip(units, owners, strict=True)], choices, barrier, results),
    )
    clerk.start()
    owner.start()
    got = _drain(results, 2 * ROUNDS)
    clerk.join(30)
    owner.join(30)
    assert len(got) == 2 * ROUNDS, got
    assert not [g for g in got if g[2].startswith("error")], got
    by_unit = {u.unit_key: c for u, c in zip(units, codes, strict=True)}
    paper = {code: outcome for kind, code, outcome in got if kind == "paper"}
    online = {key: outcome for kind, key, outcome in got if kind == "online"}
    winners = {"paper": 0, "online": 0}
    for unit in units:
        p, o = paper[by_unit[unit.unit_key]], online[unit.unit_key]
        assert (p, o) in {("counted", "already_voted"), ("conflict", "counted")}, (unit.label, p, o)
        winners["paper" if p == "counted" else "online"] += 1
        votes = DecisionVote.objects.filter(decision=d, unit_key=unit.unit_key).exclude(state=VoteState.VOIDED)
        assert votes.count() == 1
        assert votes.get().channel == (Channel.PAPER if p == "counted" else Channel.ONLINE)
        assert Participation.objects.filter(motion__decision=d, unit_key=unit.unit_key).count() == 2
    # every ballot the online owner won is on the conflict list, not counted
    assert len(paper_conflicts(d)) == winners["online"]
    print(f"{ROUNDS} rounds: paper won {winners['paper']}, online won {winners['online']}")


def test_three_clerks_entering_the_same_returned_ballots_at_once_lose_and_double_none() -> None:
    dw = decision_world()
    households = [household_make(dw.community, building="6号楼", room=f"{i + 1:03d}", area="66.00") for i in range(50)]
    d = open_decision(dw)
    paper_prepare(decision=d, by=dw.moderator)
    codes = [BallotCode.objects.get(decision=d, unit_key=unit_of(d, h).unit_key).code for h in households]
    third = staff_make(dw.community, Role.MODERATOR, "clerk3")
    clerks = [dw.moderator, dw.clerk, third]
    choices = all_yes(d)
    close_old_connections()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    env = _env()
    procs = []
    for n, clerk in enumerate(clerks):
        order = list(codes)
        random.Random(n).shuffle(order)  # each clerk takes the pile in another order
        procs.append(ctx.Process(target=paper_race.paper_clerk, args=(env, d.pk, clerk.pk, order, choices, barrier, results)))
    for p in procs:
        p.start()
    got = _drain(results, 3 * len(codes))
    for p in procs:
        p.join(30)
    assert len(got) == 3 * len(codes)
    outcomes = [g[2] for g in got]
    assert outcomes.count("counted") == len(codes) and outcomes.count("code_used") == 2 * len(codes), sorted(set(outcomes))
    assert {code for _kind, code, outcome in got if outcome == "counted"} == set(codes)  # none lost
    votes = DecisionVote.objects.filter(decision=d)
    assert votes.count() == len(codes) and set(votes.values_list("state", flat=True)) == {VoteState.COUNTED}
    assert PaperEntry.objects.filter(vote__decision=d).count() == len(codes)  # none doubled
    assert Participation.objects.filter(motion__decision=d).count() == 2 * len(codes)
