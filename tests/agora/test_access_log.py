"""daphne's access log never shows a receipt (or another secret) from a query string."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from typing import Any

import pytest
from daphne.access import AccessLogGenerator

from agora import server
from agora.infra.access_log import redact
from agora.infra.server_internals import access_log_server

Server = access_log_server()  # imports daphne.server, as agora.server does


def test_secret_query_values_are_redacted_from_access_log_lines() -> None:
    stream = io.StringIO()
    logging_server = Server.__new__(Server)  # only its action logger is used here
    logging_server.action_logger = AccessLogGenerator(stream)
    details = {
        "path": "/s/1/motions/2/results/?fragment=1&receipt=Zq8xMyReceipt_1234",
        "status": 302,
        "method": "GET",
        "client": "10.0.0.2:5000",
        "size": 0,
    }
    logging_server.log_action("http", "complete", details)
    line = stream.getvalue()
    assert "Zq8xMyReceipt_1234" not in line and "receipt=[redacted]" in line and "fragment=1" in line
    assert redact("/x/?receipts=3&page=2") == "/x/?receipts=3&page=2"  # other parameters stay
    # Inside a login redirect's next=, encoded once or twice.
    assert (
        redact("/accounts/login/?next=/r/%3Ffragment%3D1%26receipt%3DSEC%26x%3D1")
        == "/accounts/login/?next=/r/%3Ffragment%3D1%26receipt%3D[redacted]%26x%3D1"
    )
    assert redact("/a/?next=%2Fr%2F%253Freceipt%253DSEC") == "/a/?next=%2Fr%2F%253Freceipt%253D[redacted]"


def test_the_agora_server_runs_daphne_with_the_redacting_server(monkeypatch: Any) -> None:
    from daphne.cli import CommandLineInterface

    used: list[type] = []
    monkeypatch.setattr(CommandLineInterface, "run", lambda self, argv: used.append(self.server_class))
    server.main(["-b", "127.0.0.1", "-p", "0"])
    assert used == [Server]


@pytest.mark.django_db(transaction=True)
def test_a_real_daphne_access_log_never_shows_a_receipt(daphne_server: Any) -> None:
    """The old no-JavaScript link (GET …/results/?receipt=…) against a real ``agora.server``."""
    secret = "Rc7-pLaYiNgThEaTtAcKeR"
    for path in (f"/sessions/1/motions/1/results/?receipt={secret}", f"/?fragment=1&receipt={secret}"):
        try:
            urllib.request.urlopen(f"{daphne_server.url}{path}", timeout=10)  # noqa: S310 (our own test server)
        except urllib.error.HTTPError:
            pass  # a 302 to the login page or a 404: the log line is what matters
    daphne_server.stop()  # flushes daphne's stdout, where the access log goes
    log = daphne_server.log_path.read_text(errors="replace")
    assert "receipt=[redacted]" in log and secret not in log
