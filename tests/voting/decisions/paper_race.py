"""The children of tests/voting/decisions/test_paper_races.py: real processes on the test
database (started with ``multiprocessing``'s spawn), each a clerk or an owner, who act at the
same moment through a barrier."""

from __future__ import annotations

import os
import random
import time
from typing import Any


def _setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def paper_clerk(
    env: dict[str, str], decision_id: int, clerk_id: int, codes: list[str], choices: dict[int, list[int]], barrier: Any, out: Any
) -> None:
    """Enter each code with ``paper_enter``, every one at the barrier (or all after one wait)."""
    _setup(env)
    from django.contrib.auth.models import User

    from agora.infra.errors import Refused
    from voting.decisions.paper.services import paper_enter
    from voting.models import Decision

    decision, clerk = Decision.objects.get(pk=decision_id), User.objects.get(pk=clerk_id)
    for code in codes:
        barrier.wait(60)
        try:
            out.put(("paper", code, paper_enter(decision=decision, by=clerk, typed_code=code, choices=dict(choices)).outcome))
        except Refused as refusal:
            out.put(("paper", code, refusal.code))
        except Exception as exc:  # noqa: BLE001 - the parent reports it
            out.put(("paper", code, f"error: {exc!r}"))


def online_owner(
    env: dict[str, str], decision_id: int, units: list[tuple[str, int]], choices: dict[int, list[int]], barrier: Any, out: Any
) -> None:
    """Vote online with ``vote_record`` for each (unit key, owner id), every one at the barrier."""
    _setup(env)
    from django.contrib.auth.models import User

    from agora.infra.errors import Refused
    from voting.decisions.ballots import vote_record
    from voting.models import Channel, Decision
    from voting.units import decision_unit

    decision = Decision.objects.get(pk=decision_id)
    for unit_key, owner_id in units:
        unit = decision_unit(decision, unit_key)
        owner = User.objects.get(pk=owner_id)
        barrier.wait(60)
        # The paper entry reads the code and the unit before it takes the decision's lock; a
        # delay of 0-40 ms here lets either side arrive first, so both orders are raced.
        time.sleep(random.random() * 0.04)
        try:
            vote_record(decision=decision, unit=unit, choices=dict(choices), channel=Channel.ONLINE, voter=owner)  # type: ignore[arg-type]
            out.put(("online", unit_key, "counted"))
        except Refused as refusal:
            out.put(("online", unit_key, refusal.code))
        except Exception as exc:  # noqa: BLE001 - the parent reports it
            out.put(("online", unit_key, f"error: {exc!r}"))
