"""The children of tests/voting/decisions/test_proxy_races.py: real processes on the test database
(``multiprocessing``'s spawn), a proxy holder voting and a moderator revoking the same proxy at
the same moment through a barrier."""

from __future__ import annotations

import os
import random
import time
from typing import Any


def _setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def holders_vote(
    env: dict[str, str], decision_id: int, pairs: list[tuple[int, int]], choices: dict[int, list[int]], barrier: Any, out: Any
) -> None:
    """Each (proxy id, holder id): vote with ``proxy_vote_record`` at the barrier."""
    _setup(env)
    from django.contrib.auth.models import User

    from agora.infra.errors import Refused
    from voting.decisions.door.services import proxy_vote_record
    from voting.models import Decision, Proxy

    decision = Decision.objects.get(pk=decision_id)
    rng = random.Random(decision_id)
    for proxy_id, holder_id in pairs:
        proxy, holder = Proxy.objects.get(pk=proxy_id), User.objects.get(pk=holder_id)
        barrier.wait(60)
        time.sleep(rng.random() * 0.03)  # either side may arrive first
        try:
            proxy_vote_record(decision=decision, holder=holder, proxy=proxy, choices=dict(choices))
            out.put(("vote", proxy_id, "counted"))
        except Refused as refusal:
            out.put(("vote", proxy_id, refusal.code))
        except Exception as exc:  # noqa: BLE001 - the parent reports it
            out.put(("vote", proxy_id, f"error: {exc!r}"))


def moderator_revokes(env: dict[str, str], moderator_id: int, proxy_ids: list[int], barrier: Any, out: Any) -> None:
    """Revoke each proxy with ``proxy_revoke`` at the barrier."""
    _setup(env)
    from django.contrib.auth.models import User

    from agora.infra.errors import Refused
    from voting.decisions.door.services import proxy_revoke
    from voting.models import Proxy

    moderator = User.objects.get(pk=moderator_id)
    rng = random.Random(moderator_id)
    for proxy_id in proxy_ids:
        proxy = Proxy.objects.select_related("decision").get(pk=proxy_id)
        barrier.wait(60)
        # The vote reads its unit and checks the choices before it takes the decision's lock: a
        # longer delay here lets either side take the lock first, so both orders are raced.
        time.sleep(rng.random() * 0.25)
        try:
            proxy_revoke(proxy=proxy, by=moderator, reason="业主本人回来了")
            out.put(("revoke", proxy_id, "revoked"))
        except Refused as refusal:
            out.put(("revoke", proxy_id, refusal.code))
        except Exception as exc:  # noqa: BLE001 - the parent reports it
            out.put(("revoke", proxy_id, f"error: {exc!r}"))
