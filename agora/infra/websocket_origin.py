"""Which pages may open a live connection: the same origin (scheme, host **and** port), or one
listed in ``CSRF_TRUSTED_ORIGINS``.

Channels' ``AllowedHostsOriginValidator`` compares host names only, so a page served by another
program on another port of the same host (``http://127.0.0.1:8245``) could open a socket with the
resident's cookie and post as them: cookies are not separated by port. Here the browser's
``Origin`` must equal the origin the request came to — the scheme it arrived by (``wss`` or, behind
the proxy, ``SECURE_PROXY_SSL_HEADER``), and the ``Host`` header's name and port, that name being
one of ``ALLOWED_HOSTS`` — or be one of ``CSRF_TRUSTED_ORIGINS`` (the same list Django's CSRF check
trusts for form posts). No ``Origin`` at all (not a browser) is refused, as Channels does.

So ``make run`` on ``127.0.0.1:8000``, the tests' servers on random ports and a proxy on 443 work
with no configuration, and nothing else does (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope

DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """``scheme://host[:port]`` as (scheme, host, port), or None if it is not a web origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/") or parts.query or parts.username:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin1")
    return None


def _served_scheme(scope: Mapping[str, Any]) -> str:
    if scope.get("scheme") in ("wss", "https"):
        return "https"
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, secure_value = proxy
        name = header.removeprefix("HTTP_").replace("_", "-").lower().encode()
        value = _header(scope, name)
        if value is not None and value.split(",", 1)[0].strip() == secure_value:
            return "https"
    return "http"


def _allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]  # as Django's HttpRequest.get_host()
    return hosts


def served_origin(scope: Mapping[str, Any]) -> Origin | None:
    """The origin this connection was made to, if its Host is one of ALLOWED_HOSTS."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, port = split_domain_port(host.strip().lower())
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    scheme = _served_scheme(scope)
    try:
        number = int(port) if port else DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, domain.strip("[]"), number


def _trusted(origin: Origin) -> bool:
    scheme, host, port = origin
    for pattern in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in pattern
        trusted = parse_origin(pattern.replace("://*.", "://", 1))
        if trusted is None or trusted[0] != scheme or trusted[2] != port:
            continue
        if host == trusted[1] or (wildcard and host.endswith("." + trusted[1])):
            return True
    return False


def origin_allowed(scope: Mapping[str, Any]) -> bool:
    raw = _header(scope, b"origin")
    origin = parse_origin(raw) if raw else None
    if origin is None:
        return False
    served = served_origin(scope)
    if served is None:
        return False  # a Host that is not ours: refused whatever the Origin says
    return origin == served or _trusted(origin)


class SameOriginValidator:
    """ASGI middleware for the WebSocket router: refuse (HTTP 403 at the handshake) a connect
    whose Origin is not this site's scheme + host + port or a trusted origin."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: _ChannelScope, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
