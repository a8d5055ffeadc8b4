"""Baseline: a minimal Channels consumer broadcasting with ``group_send``, served by daphne.

Same protocol subset as the websockets baseline; every connection joins one group and
gets each message through the channel layer (the textbook Channels chat room). It runs
on the same channel layer as Agora in the same benchmark run (``REDIS_URL`` or memory).

    DJANGO_SETTINGS_MODULE=bench.baselines.channels_broadcast daphne bench.baselines.channels_broadcast:application
"""

from __future__ import annotations

import os
from typing import Any

SECRET_KEY = "bench-baseline-only"
INSTALLED_APPS = ["channels"]
USE_TZ = True
if os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": os.environ.get("BENCH_LAYER_BACKEND", "channels_redis.core.RedisChannelLayer"),
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]], "prefix": os.environ.get("AGORA_REDIS_PREFIX", "bench") + "-baseline"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baselines.channels_broadcast")

import django  # noqa: E402

django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402

GROUP = "bench-room"
_seq = 0


class BroadcastConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        global _seq
        if content.get("type") == "hello":
            await self.send_json({"type": "synced", "last_seq": _seq})
        elif content.get("type") == "message.post":
            _seq += 1
            await self.send_json({"type": "message.ack", "client_id": content.get("client_id"), "seq": _seq})
            await self.channel_layer.group_send(GROUP, {"type": "room.message", "seq": _seq, "text": content.get("text", "")})

    async def room_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "seq": event["seq"], "html": event["text"]})


application = ProtocolTypeRouter({"websocket": BroadcastConsumer.as_asgi()})
