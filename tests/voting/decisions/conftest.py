from __future__ import annotations

import pytest

from tests.voting.decisions.helpers import DecisionWorld, decision_world


@pytest.fixture(autouse=True)
def test_clock(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Every decision test runs on its own test clock (agora/infra/clock.py), at real time + 0."""
    path = tmp_path / "clock"
    path.write_text("0")
    settings.AGORA_TEST_CLOCK_FILE = str(path)
    return path


@pytest.fixture
def dw(db: None) -> DecisionWorld:
    return decision_world()
