from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_vote_timers(settings) -> None:  # type: ignore[no-untyped-def]
    """Tests drive tallies and closing explicitly; no background timers unless a test asks."""
    settings.AGORA_TALLY_INTERVAL = 0
    settings.AGORA_VOTING_TIMERS = False
