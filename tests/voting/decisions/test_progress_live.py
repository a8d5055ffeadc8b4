"""The progress page's WebSocket with the real consumer: who is admitted, the frame at connect,
a live frame after a ballot, counts of choices per reader, and coalescing under a burst."""

from __future__ import annotations

import re
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User

from agora.asgi import application
from tests.sessions.live_helpers import session_cookie
from tests.voting.decisions.helpers import DecisionWorld, choice_of, decision_world, open_decision, unit_of
from voting.decisions.ballots import vote_record
from voting.decisions.progress import announce
from voting.models import Channel, Decision

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect(user: User | None, decision_id: int, language: str | None = None) -> tuple[WebsocketCommunicator, bool]:
    cookie = await database_sync_to_async(session_cookie)(user, language)
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    comm = WebsocketCommunicator(application, f"/ws/decisions/{decision_id}/progress/", headers=headers)
    ok, _code = await comm.connect(timeout=5)
    return comm, ok


async def frame(comm: WebsocketCommunicator, timeout: float = 5) -> dict[str, Any]:
    got: dict[str, Any] = await comm.receive_json_from(timeout=timeout)
    return got


def _world(**kwargs: Any) -> tuple[DecisionWorld, Decision]:
    w = decision_world()
    return w, open_decision(w, **kwargs)


def _vote(w: DecisionWorld, d: Decision, i: int, code: str = "yes") -> None:
    vote_record(decision=d, unit=unit_of(d, w.households[i]), choices=choice_of(d, code), channel=Channel.ONLINE, voter=w.owners[i])


async def test_a_reader_gets_the_progress_at_once_and_again_after_a_ballot(settings: Any) -> None:
    settings.AGORA_PROGRESS_INTERVAL = 0.2
    announce.reset()
    w, d = await database_sync_to_async(_world)()
    owner, ok = await connect(w.owners[1], d.pk)
    assert ok
    first = await frame(owner)
    assert first["type"] == "progress" and first["headcount"]["voted"] == 0 and first["headcount"]["base"] == 6
    assert "1号楼" in first["html"] and "业主（人数）" in first["html"]
    english, ok = await connect(w.tenant, d.pk, language="en")
    assert ok and "Owners (headcount)" in (await frame(english))["html"]

    await database_sync_to_async(_vote)(w, d, 0)
    live = await frame(owner)
    assert live["headcount"]["voted"] == 1 and live["area"]["voted"] == "80.50" and live["read_at"] >= first["read_at"]
    assert "80.50 / 519.50" in " ".join(re.sub(r"<[^>]+>", " ", live["html"]).split())
    assert (await frame(english))["headcount"]["voted"] == 1
    await owner.disconnect()
    await english.disconnect()


async def test_outsiders_and_the_anonymous_are_refused() -> None:
    w, d = await database_sync_to_async(_world)()
    for user in (w.outsider, None):
        _comm, ok = await connect(user, d.pk)
        assert not ok
    _comm, ok = await connect(w.moderator, 999999)
    assert not ok


async def test_counts_of_choices_only_to_whom_the_decision_shows_them(settings: Any) -> None:
    settings.AGORA_PROGRESS_INTERVAL = 0.2
    announce.reset()
    w, d = await database_sync_to_async(_world)(secret=False, results_live=False)
    owner, _ = await connect(w.owners[1], d.pk)
    moderator, _ = await connect(w.moderator, d.pk)
    await frame(owner)
    await frame(moderator)
    await database_sync_to_async(_vote)(w, d, 0, "no")
    owner_frame, moderator_frame = await frame(owner), await frame(moderator)
    assert "counts-hidden" in owner_frame["html"] and "matter-counts" not in owner_frame["html"]
    assert "matter-counts" in moderator_frame["html"]
    await owner.disconnect()
    await moderator.disconnect()


async def test_a_burst_of_ballots_makes_a_few_frames_and_the_last_shows_them_all(settings: Any) -> None:
    settings.AGORA_PROGRESS_INTERVAL = 0.5
    announce.reset()
    w, d = await database_sync_to_async(_world)()
    reader, _ = await connect(w.moderator, d.pk)
    await frame(reader)

    def burst() -> None:
        for i in range(6):
            _vote(w, d, i)

    await database_sync_to_async(burst)()
    frames = []
    while not await reader.receive_nothing(timeout=1.5):  # a receive timeout would cancel the consumer
        frames.append(await frame(reader))
    assert 1 <= len(frames) <= 3  # six ballots in well under a second: a leading and a trailing frame
    assert frames[-1]["headcount"]["voted"] == 6 and frames[-1]["headcount"]["met"]
    await reader.disconnect()
