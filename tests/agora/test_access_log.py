"""daphne's access log never shows a receipt (or another secret) from a query string."""

from __future__ import annotations

import io
from typing import Any

from daphne.access import AccessLogGenerator

from agora import server
from agora.access_log import Server, redact


def test_secret_query_values_are_redacted_from_access_log_lines() -> None:
    stream = io.StringIO()
    logging_server = Server.__new__(Server)  # only its action logger is used here
    logging_server.action_logger = AccessLogGenerator(stream)
    details = {"path": "/s/1/motions/2/results/?fragment=1&receipt=Zq8xMyReceipt_1234", "status": 302, "method": "GET", "client": "10.0.0.2:5000", "size": 0}
    logging_server.log_action("http", "complete", details)
    line = stream.getvalue()
    assert "Zq8xMyReceipt_1234" not in line and "receipt=[redacted]" in line and "fragment=1" in line
    assert redact("/x/?receipts=3&page=2") == "/x/?receipts=3&page=2"  # other parameters stay


def test_the_agora_server_runs_daphne_with_the_redacting_server(monkeypatch: Any) -> None:
    from daphne.cli import CommandLineInterface

    used: list[type] = []
    monkeypatch.setattr(CommandLineInterface, "run", lambda self, argv: used.append(self.server_class))
    server.main(["-b", "127.0.0.1", "-p", "0"])
    assert used == [Server]
