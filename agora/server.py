"""Start daphne with Agora's limits: ``python -m agora.server -b 127.0.0.1 -p 8000``.

One place for the server's flags, used by `make run`, the tests and the benchmarks. The server
also runs the job worker in-process once its loop runs (agora/infra/jobs; AGORA_JOBS_IN_SERVER=0
turns it off where `manage.py run_jobs` processes do the work).
"""

from __future__ import annotations

import sys

# Chat needs little: refuse WebSocket messages over 64 KiB before they reach the app
# (the consumer refuses them too). daphne ≥ 4.2.2 has these limits.
WEBSOCKET_MAX_BYTES = 64 * 1024
DAPHNE_FLAGS = [
    f"--websocket-max-message-size={WEBSOCKET_MAX_BYTES}",
    f"--websocket-max-frame-size={WEBSOCKET_MAX_BYTES}",
    "--ping-interval=20",
    "--ping-timeout=30",
]


def _start_jobs() -> None:
    """On the server's loop, once it runs (Django is set up by then: daphne loaded the app).
    At shutdown the loop runs on until the job in hand is done (its announcements need it)."""
    from agora.infra import server_internals
    from agora.infra.jobs.runner import start_in_server

    worker = start_in_server()
    if worker is not None:
        server_internals.before_shutdown(worker.shutdown)


def main(argv: list[str]) -> None:
    from agora.infra import server_internals

    # daphne's server class keeps secrets in query strings out of the access log.
    server_internals.run_daphne([*DAPHNE_FLAGS, *argv, "agora.asgi:application"], when_running=_start_jobs)


if __name__ == "__main__":
    main(sys.argv[1:])
