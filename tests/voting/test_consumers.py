"""Votes over the live WebSocket: opening, casting, tallies, closing, refusals, secrecy."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async

from tests.factories import World, resident_make
from tests.sessions.live_helpers import connect, drain, receive_until
from tests.voting.helpers import key, option
from voting import services
from voting.models import Ballot, InPersonCount, Motion, MotionState, Resolution
from voting.services import MotionSettings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def draft(world: World, **settings: Any) -> Motion:
    return await database_sync_to_async(services.motion_create)(
        session=world.session, by=world.moderator, text="东门夜间划线停车", settings=MotionSettings(**settings)
    )


async def opt(motion: Motion, code: str) -> int:
    return await database_sync_to_async(option)(motion, code)


def of_type(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == kind]


async def test_a_whole_vote_live(tx_world: World) -> None:
    motion = await draft(tx_world)
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk, language="en")

    await mod.send_json_to({"type": "motion.open", "motion_id": motion.pk})
    opened = of_type(await receive_until(a, "motion.opened"), "motion.opened")[0]
    assert opened["motion_id"] == motion.pk and "东门夜间划线停车" in opened["html"] and "赞成" in opened["html"]
    assert "Yes" in of_type(await receive_until(b, "motion.opened"), "motion.opened")[0]["html"]

    await a.send_json_to({"type": "motion.status", "motion_id": motion.pk})
    status = of_type(await receive_until(a, "motion.status"), "motion.status")[0]
    assert status["can_vote"] and not status["voted"]

    idem = key()
    await a.send_json_to(
        {"type": "ballot.cast", "motion_id": motion.pk, "choice": [await opt(motion, "yes")], "idempotency_key": idem, "client_id": "c1"}
    )
    receipt = of_type(await receive_until(a, "ballot.receipt"), "ballot.receipt")[0]
    assert receipt["client_id"] == "c1" and len(receipt["receipt"]) >= 22 and not receipt["replayed"]
    await a.send_json_to({"type": "ballot.cast", "motion_id": motion.pk, "choice": [await opt(motion, "yes")], "idempotency_key": idem})
    replay = of_type(await receive_until(a, "ballot.receipt"), "ballot.receipt")[0]
    assert replay["receipt"] == receipt["receipt"] and replay["replayed"]

    await b.send_json_to({"type": "ballot.cast", "motion_id": motion.pk, "choice": [await opt(motion, "no")], "idempotency_key": key()})
    await receive_until(b, "ballot.receipt")
    tallies = of_type(await drain(mod, 0.5), "tally")
    assert tallies and tallies[-1]["ballots"] == 2

    await mod.send_json_to({"type": "motion.close", "motion_id": motion.pk})
    for comm in (mod, a, b):
        closed = of_type(await receive_until(comm, "motion.closed"), "motion.closed")[0]
        assert closed["outcome"] == "tie"
        assert closed["tally"]["ballots"] == 2 and sorted(o["total"] for o in closed["tally"]["options"]) == [0, 1, 1]
        assert "resolution-" in closed["html"]
    for comm in (mod, a, b):
        await comm.disconnect()


async def test_secret_vote_frames_carry_only_counts(tx_world: World, settings: Any) -> None:
    motion = await draft(tx_world, secret=True, results_live=True)
    await database_sync_to_async(services.motion_open)(motion=motion, by=tx_world.moderator)
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    await a.send_json_to({"type": "ballot.cast", "motion_id": motion.pk, "choice": [await opt(motion, "yes")], "idempotency_key": key()})
    await b.send_json_to({"type": "ballot.cast", "motion_id": motion.pk, "choice": [await opt(motion, "no")], "idempotency_key": key()})
    frames = await drain(mod, 0.6)
    tallies = of_type(frames, "tally")
    assert tallies and tallies[-1]["ballots"] == 2
    for frame in tallies:
        assert set(frame) <= {"type", "motion_id", "ballots", "in_person", "total", "html"}
        assert "赞成" not in frame["html"] and "反对" not in frame["html"]
    assert not any("receipt" in json.dumps(f) for f in frames)  # receipts go only to their voter
    for comm in (a, b, mod):
        await comm.disconnect()


async def test_open_vote_with_live_results_shows_option_counts(tx_world: World) -> None:
    motion = await draft(tx_world, secret=False, results_live=True)
    await database_sync_to_async(services.motion_open)(motion=motion, by=tx_world.moderator)
    b, _ = await connect(tx_world.resident2, tx_world.session.pk)
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    await a.send_json_to({"type": "ballot.cast", "motion_id": motion.pk, "choice": [await opt(motion, "yes")], "idempotency_key": key()})
    tally = of_type(await receive_until(b, "tally"), "tally")[-1]
    yes = await opt(motion, "yes")
    assert {o["id"]: o["total"] for o in tally["options"]}[yes] == 1 and "<svg" in tally["html"]
    await a.disconnect()
    await b.disconnect()


@pytest.mark.parametrize("message", ["motion.open", "motion.close"])
async def test_residents_cannot_open_or_close_over_the_socket(tx_world: World, message: str) -> None:
    motion = await draft(tx_world)
    if message == "motion.close":
        await database_sync_to_async(services.motion_open)(motion=motion, by=tx_world.moderator)
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    await a.send_json_to({"type": message, "motion_id": motion.pk, "client_id": "x"})
    error = of_type(await receive_until(a, "error"), "error")[0]
    assert error["code"] in {"forbidden", "not_found"} and error["message"] and error["request_type"] == message
    state = await database_sync_to_async(lambda: Motion.objects.get(pk=motion.pk).state)()
    assert state == (MotionState.DRAFT if message == "motion.open" else MotionState.OPEN)
    assert not await database_sync_to_async(Resolution.objects.exists)()
    await a.disconnect()


async def test_drafts_reach_only_moderators(tx_world: World) -> None:
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    motion = await draft(tx_world)
    assert of_type(await receive_until(mod, "motion.drafted"), "motion.drafted")[0]["motion_id"] == motion.pk
    assert not of_type(await drain(a, 0.4), "motion.drafted")
    await a.send_json_to({"type": "ballot.cast", "motion_id": motion.pk, "choice": [1], "idempotency_key": key()})
    assert of_type(await receive_until(a, "error"), "error")[0]["code"] == "not_found"
    await mod.disconnect()
    await a.disconnect()


async def test_ineligible_people_are_refused_with_a_sentence(tx_world: World) -> None:
    motion = await draft(tx_world, eligibility="owners")
    await database_sync_to_async(services.motion_open)(motion=motion, by=tx_world.moderator)
    tenant = await database_sync_to_async(resident_make)(tx_world.community, "tenant", tags=[tx_world.car_owner], tenure="tenant")
    for user in (tx_world.observer, tenant):
        comm, _ = await connect(user, tx_world.session.pk, language="en")
        await comm.send_json_to(
            {"type": "ballot.cast", "motion_id": motion.pk, "choice": [await opt(motion, "yes")], "idempotency_key": key()}
        )
        error = of_type(await receive_until(comm, "error"), "error")[0]
        assert error["code"] == "not_eligible" and "vote" in error["message"]
        await comm.disconnect()
    assert not await database_sync_to_async(Ballot.objects.exists)()


async def test_bad_requests_get_clear_errors(tx_world: World) -> None:
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    for bad in ({"type": "ballot.cast"}, {"type": "ballot.cast", "motion_id": "1"}, {"type": "motion.status", "motion_id": 999999}):
        await a.send_json_to(bad)
        error = of_type(await receive_until(a, "error"), "error")[0]
        assert error["code"] in {"bad_field", "not_found"} and error["message"]
    await a.disconnect()


async def test_tally_broadcasts_are_throttled_and_end_exact(tx_world: World, settings: Any) -> None:
    settings.AGORA_TALLY_INTERVAL = 0.3
    motion = await draft(tx_world, secret=True)
    await database_sync_to_async(services.motion_open)(motion=motion, by=tx_world.moderator)
    voters = [await database_sync_to_async(resident_make)(tx_world.community, f"t{i}", tags=[tx_world.car_owner]) for i in range(12)]
    watcher, _ = await connect(tx_world.moderator, tx_world.session.pk)
    comms = [(await connect(v, tx_world.session.pk))[0] for v in voters]
    yes = await opt(motion, "yes")
    for comm in comms:
        await comm.send_json_to({"type": "ballot.cast", "motion_id": motion.pk, "choice": [yes], "idempotency_key": key()})
    for comm in comms:
        await receive_until(comm, "ballot.receipt")
    await asyncio.sleep(0.5)
    tallies = of_type(await drain(watcher, 0.6), "tally")
    assert 1 <= len(tallies) <= 6  # 12 ballots, a few frames per second at most
    assert tallies[-1]["ballots"] == 12  # the trailing frame reads every committed ballot
    await database_sync_to_async(services.in_person_count_enter)(
        motion=motion,
        by=tx_world.moderator,
        entries=[services.InPersonEntry(choice=[yes], count=2)],  # 14 eligible
    )
    await database_sync_to_async(services.motion_close)(motion=motion, by=tx_world.moderator)
    closed = of_type(await receive_until(watcher, "motion.closed"), "motion.closed")[0]
    assert closed["tally"]["ballots"] == 12 and closed["tally"]["in_person"] == 2 and closed["tally"]["total"] == 14
    assert await database_sync_to_async(InPersonCount.objects.count)() == 1
    for comm in [watcher, *comms]:
        await comm.disconnect()


async def test_a_motion_closes_by_itself_at_the_set_time(tx_world: World, settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    settings.AGORA_VOTING_TIMERS = True
    motion = await draft(tx_world)
    mod, _ = await connect(tx_world.moderator, tx_world.session.pk)
    a, _ = await connect(tx_world.resident, tx_world.session.pk)
    await database_sync_to_async(services.motion_open)(
        motion=motion, by=tx_world.moderator, closes_at=timezone.now() + timedelta(seconds=1.5)
    )
    await receive_until(a, "motion.opened")
    await a.send_json_to({"type": "ballot.cast", "motion_id": motion.pk, "choice": [await opt(motion, "yes")], "idempotency_key": key()})
    await receive_until(a, "ballot.receipt")
    closed = of_type(await receive_until(a, "motion.closed", timeout=5), "motion.closed")[0]
    assert closed["outcome"] == "passed" and closed["tally"]["ballots"] == 1
    stored = await database_sync_to_async(lambda: Motion.objects.select_related("resolution").get(pk=motion.pk))()
    assert stored.closed_by is None and stored.closed_at == stored.closes_at
    await a.send_json_to({"type": "ballot.cast", "motion_id": motion.pk, "choice": [await opt(motion, "yes")], "idempotency_key": key()})
    assert of_type(await receive_until(a, "error"), "error")[0]["code"] == "closed"
    await mod.disconnect()
    await a.disconnect()
