"""The benchmark itself works: a small run (20 residents) end to end, figures not asserted.

It checks what the benchmark reports is complete and sane: everyone connected, every
message delivered once, every ballot stored once — so a broken load generator or report
is caught by the suite, not on the day of a 2,000-resident run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT


# The run below takes neither pass's database nor channel layer (its own SQLite file, --layer memory).
@pytest.mark.same_on_both_passes
def test_bench_runs_20_residents_against_agora_and_both_baselines(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "AGORA_SQLITE_PATH"}}
    out = tmp_path / "results"
    completed = subprocess.run(
        [
            # 16 posts in 4 s: more than one account may post (a burst of 10, then 1 per second).
            sys.executable,
            "-m",
            "bench",
            "--clients",
            "20",
            "--rates",
            "4",
            "--seconds",
            "4",
            "--drain",
            "5",
            "--single-count",
            "2",
            "--vote-seconds",
            "1",
            "--layer",
            "memory",
            "--database",
            f"sqlite:///{tmp_path / 'bench.sqlite3'}",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "| connected | 20 | 20 | 20 |" in completed.stdout
    assert "Vote burst" in completed.stdout

    results = json.loads((out / "results.json").read_text())
    for target in ("agora", "channels", "websockets"):
        run = results["targets"][target]
        assert run["connect"]["connected"] == 20 and run["connect"]["errors"] == 0, (target, run["connect"])
        for phase in [run["single"], *run["sustained"]]:
            assert phase["refused"] == [], (target, phase["refused"])  # no poster met the per-user rate
            assert phase["missing"] == 0 and phase["duplicates"] == 0, (target, phase)
            assert phase["delivered"] == phase["expected"] > 0
    vote = results["targets"]["agora"]["vote"]
    assert vote["voters"] == 20 and vote["duplicates_sent"] == 2
    assert vote["errors"] == 0 and vote["voters_with_receipt"] == 20
    assert vote["stored"] == {"participations": 20, "ballots": 20, "voters_counted_twice": 0}
    assert vote["clients_saw_final_tally"] == vote["watchers"]
