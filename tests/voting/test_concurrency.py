"""Vote bursts from many threads on the real database (SQLite by default, PostgreSQL with
DATABASE_URL): the unique constraints and the motion row lock hold whatever the timing."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from agora.infra.errors import Refused
from tests.factories import World, resident_make
from tests.voting.helpers import key, open_motion, option, stored_ballots
from voting import ballots, services
from voting.models import Motion, Participation, Resolution

pytestmark = pytest.mark.django_db(transaction=True)


def _run_all(jobs: list[Callable[[], Any]], workers: int = 24) -> list[Any]:
    """Run every job from a pool of threads released together; each thread closes its connection."""
    barrier = threading.Barrier(min(workers, len(jobs)))

    def run(job: Callable[[], Any]) -> Any:
        try:
            try:
                barrier.wait(timeout=0.5)
            except threading.BrokenBarrierError:
                pass
            try:
                return ("ok", job())
            except Refused as refusal:
                return ("refused", refusal)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def test_200_submissions_from_100_voters_count_exactly_100(tx_world: World) -> None:
    voters = [resident_make(tx_world.community, f"v{i}", tags=[tx_world.car_owner]) for i in range(100)]
    motion = open_motion(tx_world.session, tx_world.moderator)
    yes, no = option(motion, "yes"), option(motion, "no")
    keys = {v.pk: key() for v in voters}
    jobs: list[Callable[[], Any]] = []
    for i, voter in enumerate(voters):
        choice = [yes if i % 3 else no]
        jobs.append(lambda v=voter, c=choice: ballots.ballot_cast(motion=motion, voter=v, choice=c, idempotency_key=keys[v.pk]))
        if i % 2:  # a replay of the same submission (a phone retrying)
            jobs.append(lambda v=voter, c=choice: ballots.ballot_cast(motion=motion, voter=v, choice=c, idempotency_key=keys[v.pk]))
        else:  # a second, different submission (a double tap on another screen)
            jobs.append(lambda v=voter: ballots.ballot_cast(motion=motion, voter=v, choice=[no], idempotency_key=key()))
    random.Random(7).shuffle(jobs)
    results = _run_all(jobs)

    assert len(stored_ballots(motion)) == 100
    assert Participation.objects.filter(motion=motion).count() == 100
    accepted = [r for status, r in results if status == "ok"]
    refused = [r for status, r in results if status == "refused"]
    assert {r.receipt_hash for r in accepted} == {b["receipt_hash"] for b in stored_ballots(motion)}
    # Replays got the very receipt of the first submission; different second submissions were
    # either refused (no receipt to change with) or were the first to arrive.
    assert len(accepted) + len(refused) == 200
    assert all(r.code in {"receipt_needed"} for r in refused)
    assert len(refused) == 50
    result = services.motion_close(motion=Motion.objects.get(pk=motion.pk), by=tx_world.moderator)
    assert result.data["participation"]["online"] == 100 == len(result.receipt_hashes)


def test_50_closes_racing_50_ballots_give_one_result_and_exact_counts(tx_world: World) -> None:
    voters = [resident_make(tx_world.community, f"w{i}", tags=[tx_world.car_owner]) for i in range(50)]
    motion = open_motion(tx_world.session, tx_world.moderator)
    yes = option(motion, "yes")
    delays = random.Random(11)

    def close_later(delay: float) -> Any:
        time.sleep(delay)  # spread the closes across the burst of ballots
        return services.motion_close(motion=motion, by=tx_world.moderator)

    jobs: list[Callable[[], Any]] = [
        (lambda v=voter: ballots.ballot_cast(motion=motion, voter=v, choice=[yes], idempotency_key=key())) for voter in voters
    ]
    jobs += [functools.partial(close_later, delays.uniform(0.01, 0.3)) for _ in range(50)]
    order = list(range(100))
    random.Random(3).shuffle(order)
    results = _run_all([jobs[i] for i in order], workers=32)
    by_job = {i: results[pos] for pos, i in enumerate(order)}
    ballot_results = [by_job[i] for i in range(50)]
    close_results = [by_job[i] for i in range(50, 100)]

    assert sum(1 for status, _ in close_results if status == "ok") == 1
    assert all(r.code == "closed" for status, r in close_results if status == "refused")
    assert Resolution.objects.filter(motion=motion).count() == 1
    accepted = [r for status, r in ballot_results if status == "ok"]
    refused = [r for status, r in ballot_results if status == "refused"]
    assert len(accepted) + len(refused) == 50
    assert all(r.code == "closed" for r in refused)
    # every refusal is a clear sentence in the user's language
    assert all("结束" in str(r) or "closed" in str(r).lower() for r in refused)
    resolution = Resolution.objects.get(motion=motion)
    assert resolution.data["participation"]["online"] == len(accepted) == len(resolution.receipt_hashes)
    assert {r.receipt_hash for r in accepted} == set(resolution.receipt_hashes)
    assert len(stored_ballots(motion)) == len(accepted)
    yes_total = next(o["total"] for o in resolution.data["options"] if o["code"] == "yes")
    assert yes_total == len(accepted)
