"""What the rules cost in statements on the paths that run in bursts or on every page: a live
admission (the 2,000-resident connect storm), a ballot (the vote burst) and the motion list a
resident sees. Counted with CaptureQueriesContext; the numbers are those before the rules had
one implementation each (issue 15), or fewer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions.admission import live_admission
from tests.factories import World
from tests.voting.helpers import key, open_motion, option
from voting import ballots, live, selectors, services

pytestmark = pytest.mark.django_db


def _statements(queries: CaptureQueriesContext) -> list[str]:
    # BEGIN/COMMIT (SAVEPOINT/RELEASE inside the test's own transaction) are not counted.
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]


def test_a_live_admission_is_one_statement(world: World) -> None:
    with CaptureQueriesContext(connection) as queries:
        admission = live_admission(user=world.resident, session_id=world.session.pk)
    assert admission is not None and admission.role == "resident"
    assert len(_statements(queries)) == 1, _statements(queries)


@pytest.mark.parametrize(
    "rule", [{}, {"ballot_unit": "household", "weight_mode": "area"}, {"kind": "art278"}], ids=["person", "household-area", "art278"]
)
def test_a_ballot_costs_what_it_cost_before(world: World, rule: dict[str, str]) -> None:
    """The facts, the locked motion with this unit's participation, the ballot, the participation;
    an Art. 278 ballot also sums the owner's areas (one statement, as before)."""
    motion = open_motion(world.session, world.moderator, secret=False, **rule)
    yes = option(motion, "yes")

    def cast(user: object) -> ballots.CastResult:
        found, facts = live._motion_and_facts(world.session.pk, motion.pk, user)
        return ballots.ballot_cast(motion=found, facts=facts, voter=user, choice=[yes], idempotency_key=key())  # type: ignore[arg-type]

    cast(world.resident)
    with CaptureQueriesContext(connection) as queries:
        assert cast(world.resident2).receipt
    expected = 5 if rule.get("kind") == "art278" else 4
    assert len(_statements(queries)) == expected, "\n".join(s[:120] for s in _statements(queries))


def test_the_motion_list_of_a_resident(world: World) -> None:
    """The motions and their options, then per motion its tally (ballots, room counts), the
    resident's facts and their participation. Three motions: 17 statements before (the facts
    were read twice per motion), 14 now."""
    for n in range(3):
        open_motion(world.session, world.moderator, text=f"第{n}项", secret=False)
    services.motion_create(session=world.session, by=world.moderator, text="草稿")  # not listed for a resident
    with CaptureQueriesContext(connection) as queries:
        items = selectors.session_motions(session=world.session, user=world.resident, can_manage=False)
    assert len(items) == 3 and all(item["me"]["can_vote"] for item in items)
    assert len(_statements(queries)) == 2 + 3 * 4, "\n".join(s[:120] for s in _statements(queries))
