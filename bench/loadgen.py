"""The load generator: N lean WebSocket clients in one process, one live room.

Run by ``bench.live`` as its own process, pinned to the core the server does not use
(``taskset -c 1 python -m bench.loadgen spec.json out.json``), so the client is never
what limits the figures. Every client speaks the Agora protocol (docs/protocol.md):
``hello`` then ``message`` frames; the baselines speak the same subset.

The sender embeds ``bench:<phase>:<k>:<unix send time>`` in the text of message k, so
each receiver measures latency on the same clock (loopback, one machine) and checks that
it got every k of every phase exactly once. Per received frame a client does one regex
search and one list append: cheap enough for 40,000 frames/s on one core.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

MARK = re.compile(r"bench:(\w+):(\d+):(\d+\.\d+)")
CONNECT_CONCURRENCY = 100


@dataclass
class Client:
    index: int
    ws: ClientConnection | None = None
    # phase -> list of (k, latency seconds)
    got: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    frames: int = 0
    closed: bool = False
    reader: asyncio.Task[None] | None = None
    waiters: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    votes: dict[str, Any] = field(default_factory=dict)


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (and its reaped children), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / 100.0


def proc_rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1] * 1000}


class Room:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.url: str = spec["ws_url"]
        self.origin: str = spec["origin"]
        self.cookies: list[str] = spec["cookies"]
        self.sender_cookie: str = spec["sender_cookie"]
        self.pids: dict[str, int] = spec["pids"]
        self.clients: list[Client] = []
        self.sender = Client(index=-1)
        self.connect_errors: list[str] = []
        self.sender_errors: list[str] = []

    # --- connections -----------------------------------------------------------------
    async def _open(self, client: Client, cookie: str) -> None:
        client.ws = await websockets.connect(
            self.url,
            additional_headers={"Cookie": cookie, "Origin": self.origin},
            compression=None,  # daphne does not negotiate permessage-deflate; keep every target equal
            open_timeout=30,
            ping_interval=None,
            max_queue=None,
            max_size=2**22,
        )
        synced = asyncio.get_running_loop().create_future()
        client.waiters["synced"] = synced
        client.reader = asyncio.ensure_future(self._read(client))
        await client.ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        await asyncio.wait_for(synced, 30)

    async def _read(self, client: Client) -> None:
        assert client.ws is not None
        now = time.time
        try:
            async for raw in client.ws:
                client.frames += 1
                if isinstance(raw, bytes):
                    raw = raw.decode()
                found = MARK.search(raw)
                if found is not None:  # only message frames carry the text
                    client.got.setdefault(found[1], []).append((int(found[2]), now() - float(found[3])))
                    continue
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "vote.result" or kind == "motion.tally" or kind == "vote.tally":
                    client.votes["last_tally"] = (now(), frame)
                waiter = client.waiters.pop(kind, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            client.closed = True

    async def connect_all(self) -> dict[str, Any]:
        cpu0 = self.cpu()
        rss0 = self.rss()
        await self._open(self.sender, self.sender_cookie)
        limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
        self.clients = [Client(index=i) for i in range(len(self.cookies))]

        async def one(client: Client) -> None:
            async with limit:
                try:
                    await self._open(client, self.cookies[client.index])
                except Exception as exc:  # counted and reported, never retried silently
                    self.connect_errors.append(f"{type(exc).__name__}: {exc}"[:200])

        started = time.perf_counter()
        await asyncio.gather(*(one(c) for c in self.clients))
        elapsed = time.perf_counter() - started
        await asyncio.sleep(1.5)  # let coalesced presence snapshots settle before measuring memory
        rss1 = self.rss()
        connected = sum(1 for c in self.clients if c.ws is not None and not c.closed)
        return {
            "clients": len(self.clients),
            "connected": connected,
            "errors": len(self.connect_errors),
            "error_samples": self.connect_errors[:5],
            "seconds": elapsed,
            "rate_per_s": connected / elapsed if elapsed else None,
            "server_cpu_s": self.cpu_delta(cpu0),
            "rss_before": rss0,
            "rss_after": rss1,
            "memory_per_connection_bytes": {k: (rss1[k] - rss0.get(k, 0)) / max(connected, 1) for k in rss1},
        }

    async def close_all(self) -> None:
        for client in [self.sender, *self.clients]:
            if client.ws is not None:
                await client.ws.close()
        for client in [self.sender, *self.clients]:
            if client.reader is not None:
                client.reader.cancel()

    # --- measurements ----------------------------------------------------------------
    def cpu(self) -> dict[str, float]:
        return {name: proc_cpu_seconds(pid) for name, pid in self.pids.items()}

    def rss(self) -> dict[str, int]:
        return {name: proc_rss_bytes(pid) for name, pid in self.pids.items()}

    def cpu_delta(self, before: dict[str, float]) -> dict[str, float]:
        now = self.cpu()
        return {name: now[name] - before.get(name, 0.0) for name in now}

    async def post(self, phase: str, k: int) -> None:
        """Post message k; a sender the server closed is counted and reopened (k may be lost)."""
        text = f"bench:{phase}:{k}:{time.time():.6f}"
        frame = json.dumps({"type": "message.post", "text": text, "client_id": f"{phase}-{k}"})
        for _attempt in range(2):
            try:
                if self.sender.ws is None or self.sender.closed:
                    if self.sender.reader is not None:
                        self.sender.reader.cancel()
                    self.sender = Client(index=-1)
                    await self._open(self.sender, self.sender_cookie)
                assert self.sender.ws is not None
                await self.sender.ws.send(frame)
                return
            except Exception as exc:
                self.sender_errors.append(f"{phase}-{k}: {type(exc).__name__}: {exc}"[:200])
                self.sender.closed = True

    async def broadcast_phase(self, phase: str, *, rate: float, count: int, drain_timeout: float) -> dict[str, Any]:
        """Post ``count`` messages at ``rate`` per second; wait until all arrive or time runs out."""
        live = [c for c in self.clients if c.ws is not None and not c.closed]
        cpu0 = self.cpu()
        frames0 = sum(c.frames for c in live)
        self.sender_errors = []
        started = time.perf_counter()
        for k in range(count):
            target = started + k / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.post(phase, k)
        sent_at = time.perf_counter()
        deadline = sent_at + drain_timeout
        while time.perf_counter() < deadline:
            if all(len(c.got.get(phase, ())) >= count for c in live):
                break
            await asyncio.sleep(0.05)
        finished = time.perf_counter()
        await asyncio.sleep(0.2)  # a late duplicate would arrive now
        cpu = self.cpu_delta(cpu0)
        latencies: list[float] = []
        missing = duplicates = 0
        last_arrivals: list[float] = []
        for client in live:
            seen: dict[int, int] = {}
            rows = client.got.get(phase, [])
            for k, latency in rows:
                seen[k] = seen.get(k, 0) + 1
                latencies.append(latency)
            missing += sum(1 for k in range(count) if k not in seen)
            duplicates += sum(n - 1 for n in seen.values() if n > 1)
            if rows:
                last_arrivals.append(max(lat for _k, lat in rows))
        delivered = len(latencies)
        expected = count * len(live)
        frames = sum(c.frames for c in live) - frames0
        lost_connections = sum(1 for c in live if c.closed)
        return {
            "phase": phase,
            "rate": rate,
            "messages": count,
            "receivers": len(live),
            "expected": expected,
            "delivered": delivered,
            "missing": missing,
            "duplicates": duplicates,
            "delivery_pct": 100.0 * (delivered - duplicates) / expected if expected else None,
            "latency_ms": percentiles(latencies),
            "send_seconds": sent_at - started,
            "drain_seconds": finished - sent_at,
            "frames_received": frames,
            "connections_lost": lost_connections,
            "sender_errors": list(self.sender_errors),
            "server_cpu_s": cpu,
            "cpu_us_per_frame": {name: 1e6 * v / delivered if delivered else None for name, v in cpu.items()},
        }


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    room = Room(spec)
    result: dict[str, Any] = {"target": spec["target"]}
    result["connect"] = await room.connect_all()
    phases = spec["phases"]
    result["single"] = await room.broadcast_phase("single", rate=phases["single_rate"], count=phases["single_count"], drain_timeout=10)
    result["sustained"] = []
    for rate in phases["rates"]:
        count = max(1, int(rate * phases["sustained_seconds"]))
        result["sustained"].append(
            await room.broadcast_phase(f"r{str(rate).replace('.', '_')}", rate=rate, count=count, drain_timeout=phases["drain_seconds"])
        )
    result["final_rss"] = room.rss()
    await room.close_all()
    return result


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    result = asyncio.run(run(spec))
    Path(argv[1]).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
