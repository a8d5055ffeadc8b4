"""Static files and pages as a real server sends them: hashed names cached for a year, brotli and
gzip beside every file, pages gzipped, htmx only on the pages that use it."""

from __future__ import annotations

import gzip
import http.client
import re
from collections.abc import Iterator

import brotli
import pytest

from tests.servers import DaphneServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(transactional_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaphneServer]:
    server = DaphneServer.start(log_dir=tmp_path_factory.mktemp("daphne"))
    try:
        yield server
    finally:
        server.stop()


def fetch(server: DaphneServer, path: str, encoding: str = "") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Accept-Encoding": encoding} if encoding else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_static_files_have_hashed_names_long_lives_and_brotli(server: DaphneServer) -> None:
    status, headers, body = fetch(server, "/archive/", "gzip")
    assert status == 200 and headers["content-encoding"] == "gzip"
    page = gzip.decompress(body).decode()
    css = re.search(r'href="(/static/css/agora\.[0-9a-f]{12}\.css)"', page)
    assert css, "the page links the hashed name"
    status, headers, body = fetch(server, css.group(1), "br, gzip")
    assert status == 200 and headers["content-encoding"] == "br"
    assert "immutable" in headers["cache-control"] and "max-age=315360000" in headers["cache-control"]
    assert b".site-header" in brotli.decompress(body)
    status, headers, _ = fetch(server, css.group(1), "gzip")
    assert headers["content-encoding"] == "gzip"
    status, headers, _ = fetch(server, "/favicon.ico")
    assert status == 200 and headers["content-type"].startswith("image/")


def test_htmx_is_loaded_only_where_it_is_used(server: DaphneServer) -> None:
    _, _, home = fetch(server, "/")
    _, _, archive = fetch(server, "/archive/")
    assert b"htmx" not in home
    assert re.search(rb'src="/static/vendor/htmx-2\.0\.8\.min\.[0-9a-f]{12}\.js"', archive)
