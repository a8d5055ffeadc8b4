"""Compressed pages: Django's GZipMiddleware for text only.

A page of the live room is ~75 KB of HTML and 9-12 KB gzipped. PDFs, images and the proxy scans
are compressed already (or are streams of ballots that cost CPU to squeeze for nothing), so only
text types are compressed. Django adds random bytes to every gzip header (Heal the Breach), its
CSRF token is masked anew on every response, and the session cookie is SameSite=Lax, so a page of
another site cannot make the browser fetch ours with the cookie: docs/decisions.md, "Static files
and compression" (BREACH).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

COMPRESSED_TYPES = ("text/", "application/json", "application/javascript", "image/svg+xml")


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(COMPRESSED_TYPES):
            return response
        return super().process_response(request, response)
