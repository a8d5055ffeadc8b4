"""A proxy revoked while its holder votes with it, between real processes on the test database
(SQLite in the embedded pass, PostgreSQL in the production pass): every time exactly one of them
happens — the vote counts and the revocation is refused, or the revocation stands and the vote is
refused; never both, never neither."""

from __future__ import annotations

import multiprocessing
import queue
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections

from agora.infra import clock
from tests.factories import household_make, user_make
from tests.servers import server_env
from tests.voting.decisions import proxy_race
from tests.voting.decisions.helpers import all_yes, decision_world, open_decision, unit_of
from voting.decisions.door.services import ProxyTerms, proxy_record
from voting.models import Channel, DecisionVote, Proxy, ProxyKind

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 10


def _drain(results: Any, n: int) -> list[tuple[str, int, str]]:
    got = []
    for _ in range(n):
        try:
            got.append(results.get(timeout=120))
        except queue.Empty:
            break
    return got


def test_a_revocation_and_a_vote_with_the_same_proxy_at_once_exactly_one_happens(settings_media: None) -> None:
    dw = decision_world()
    households = [household_make(dw.community, building="5号楼", room=f"{i + 1:02d}01", area="70.00") for i in range(ROUNDS)]
    holders = [user_make(f"holder{i}") for i in range(ROUNDS)]
    d = open_decision(dw)
    proxies = [
        proxy_record(
            decision=d,
            by=dw.moderator,
            principal_unit_key=unit_of(d, h).unit_key,
            holder=holder,
            terms=ProxyTerms(ProxyKind.PROXY, "", clock.now() - timedelta(hours=1), d.closes_at),
            document=SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, content_type="image/png"),
        )
        for h, holder in zip(households, holders, strict=True)
    ]
    close_old_connections()
    env = server_env()
    env["AGORA_TEST_CLOCK_FILE"] = settings.AGORA_TEST_CLOCK_FILE
    env["AGORA_VOTING_TIMERS"] = "0"
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    pairs = [(p.pk, h.pk) for p, h in zip(proxies, holders, strict=True)]
    voter = ctx.Process(target=proxy_race.holders_vote, args=(env, d.pk, pairs, all_yes(d), barrier, results))
    revoker = ctx.Process(target=proxy_race.moderator_revokes, args=(env, dw.moderator.pk, [p.pk for p in proxies], barrier, results))
    voter.start()
    revoker.start()
    got = _drain(results, 2 * ROUNDS)
    voter.join(30)
    revoker.join(30)
    assert len(got) == 2 * ROUNDS and not [g for g in got if g[2].startswith("error")], got
    vote = {pid: outcome for kind, pid, outcome in got if kind == "vote"}
    revoke = {pid: outcome for kind, pid, outcome in got if kind == "revoke"}
    for proxy in proxies:
        pair = (vote[proxy.pk], revoke[proxy.pk])
        assert pair in {("counted", "used"), ("proxy_revoked", "revoked")}, (proxy.pk, pair)
        proxy.refresh_from_db()
        counted = DecisionVote.objects.filter(proxy=proxy, channel=Channel.PROXY).exists()
        assert counted == (proxy.revoked_at is None), proxy.pk
    assert Proxy.objects.filter(decision=d).count() == ROUNDS
    print(
        "votes counted:", sum(1 for o in vote.values() if o == "counted"), "revocations:", sum(1 for o in revoke.values() if o == "revoked")
    )


@pytest.fixture
def settings_media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = str(tmp_path / "media")
