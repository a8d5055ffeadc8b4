"""ASGI entry point: HTTP through Django, WebSockets through Channels (served by daphne)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")

from django.core.asgi import get_asgi_application

# Django must be set up before consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from agora.infra import server_internals  # noqa: E402
from agora.infra.live_auth import LiveAuthMiddlewareStack  # noqa: E402
from agora.infra.websocket_origin import SameOriginValidator  # noqa: E402
from agora.infra.websocket_server import gc_for_a_long_lived_server  # noqa: E402
from agora.routing import websocket_urlpatterns  # noqa: E402

# The fast path's self-check (once) and autobahn's debug line made lazy (the fence: docs/decisions.md, "Live path").
server_internals.install()


application = ProtocolTypeRouter(
    {
        # Static files come through WhiteNoise's middleware (settings.AGORA_SERVE_STATIC).
        "http": django_asgi_app,
        # Scheme, host and port of the Origin, not the host name only (agora/infra/websocket_origin.py).
        "websocket": SameOriginValidator(LiveAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
gc_for_a_long_lived_server()  # last: everything loaded so far lives as long as the process
