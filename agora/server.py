"""Start daphne with Agora's limits: ``python -m agora.server -b 127.0.0.1 -p 8000``.

One place for the server's flags, used by `make run`, the tests and the benchmarks.
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


def main(argv: list[str]) -> None:
    from daphne.cli import CommandLineInterface

    from agora.infra.access_log import Server

    cli = CommandLineInterface()
    cli.server_class = Server  # secrets in query strings never reach the access log
    cli.run([*DAPHNE_FLAGS, *argv, "agora.asgi:application"])


if __name__ == "__main__":
    main(sys.argv[1:])
