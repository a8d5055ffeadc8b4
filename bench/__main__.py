"""``python -m bench`` — the live-session benchmark (docs/performance.md, "Live sessions")."""

from __future__ import annotations

import argparse
import sys

from bench.live import AGORA_DB_CONFIGS, TARGETS, render, run


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--clients", type=int, default=200, help="residents connected to the room (default 200)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated: agora,channels,websockets")
    parser.add_argument("--layer", choices=["redis", "memory"], default=None, help="channel layer (default: redis if redis-server exists)")
    parser.add_argument("--redis-layer", choices=["pubsub", "core"], default="pubsub", help="channels_redis layer (default pubsub)")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne", help="ASGI server for Agora and the Channels baseline")
    parser.add_argument("--database", default=None, help="postgres://…/agora_bench (default when PostgreSQL runs) or sqlite:///path")
    parser.add_argument("--rates", default="1,2,5,10,20", help="sustained chat rates, messages per second")
    parser.add_argument("--seconds", type=float, default=10, help="length of each sustained phase")
    parser.add_argument("--drain", type=float, default=10, help="how long to wait for late frames after a phase")
    parser.add_argument("--single-count", type=int, default=10, help="single messages, one per second, for the latency figure")
    parser.add_argument(
        "--vote-seconds", type=float, default=10, help="vote burst: every resident votes within this many seconds (0: skip)"
    )
    parser.add_argument("--english-every", type=int, default=10, help="every Nth resident reads in English (0: none)")
    parser.add_argument("--server-env", action="append", default=[], help="KEY=VALUE for the Agora server (repeatable)")
    parser.add_argument(
        "--agora-db",
        default="pool",
        help=f"comma-separated PostgreSQL connection handlings for Agora, each run in turn: {','.join(AGORA_DB_CONFIGS)} (default pool)",
    )
    parser.add_argument("--out", default=None, help="directory for the JSON results (default bench/results/<time>)")
    options = parser.parse_args(argv)
    options.targets = [t for t in options.targets.split(",") if t]
    unknown = set(options.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    options.agora_db = [c for c in options.agora_db.split(",") if c]
    if set(options.agora_db) - set(AGORA_DB_CONFIGS) or not options.agora_db:
        parser.error(f"--agora-db takes {', '.join(AGORA_DB_CONFIGS)}")
    options.rates = [float(r) for r in options.rates.split(",") if r]
    if options.layer is None:
        import shutil

        options.layer = "redis" if shutil.which("redis-server") else "memory"
    return options


def main(argv: list[str]) -> int:
    results = run(parse(argv))
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
