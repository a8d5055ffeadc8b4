"""The load generator: N lean WebSocket clients in one process, one live room.

Run by ``bench.live`` as its own process, pinned to the core the server does not use
(``taskset -c 1 python -m bench.loadgen spec.json out.json``), so the client is never
what limits the figures. Every client speaks the Agora protocol (docs/protocol.md):
``hello`` then ``message`` frames; the baselines speak the same subset.

The clients are a bare ``asyncio.Protocol`` that parses frames by hand (``LeanSocket``).
Our first runs used the ``websockets`` client (a queue, a future and a task switch per
frame): with it, one message to 2,000 clients of the bare websockets baseline showed a p50 of
949 ms and its connect storm took 15.5 s — the load generator, not the server, set those
figures; with this client they were 80 ms and 4.0 s. Frames that arrive in one read share
one timestamp; that is the resolution of the latency figures.

The sender embeds ``bench:<phase>:<k>:<unix send time>`` in the text of message k, so
each receiver measures latency on the same clock (loopback, one machine) and checks that
it got every k of every phase exactly once. The messages are posted by several accounts in
turn (``poster_cookies``, as many for every target), so no poster reaches Agora's per-user
rate for ``message.post``; a refused post is counted per phase (``refused``), so a phase that
loses posts to the rate says so instead of reading as a delivery failure. Per received frame a client does one regex
search and one list append: cheap enough for 40,000 frames/s on one core.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MARK = re.compile(rb"bench:(\w+):(\d+):(\d+\.\d+)")
CONNECT_CONCURRENCY = 100


class ConnectionClosed(Exception):
    pass


class LeanSocket(asyncio.Protocol):
    """The least a WebSocket client can do: handshake, parse unmasked frames, send masked ones."""

    def __init__(self, on_message: Any, on_close: Any) -> None:
        self.on_message = on_message
        self.on_close = on_close
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open = False
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.fragments: list[bytes] | None = None
        self.close_code: int | None = None

    @classmethod
    async def connect(cls, url: str, headers: dict[str, str], on_message: Any, on_close: Any, timeout: float = 30) -> LeanSocket:
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"{url}: the load generator needs a host and a port")
        loop = asyncio.get_running_loop()
        _transport, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: cls(on_message, on_close), parts.hostname, parts.port), timeout
        )
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {parts.path} HTTP/1.1",
            f"Host: {parts.hostname}:{parts.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        assert protocol.transport is not None
        protocol.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            await asyncio.wait_for(asyncio.shield(protocol.handshake), timeout)
        except BaseException:
            protocol.transport.abort()
            raise
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # create_connection: a stream transport
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionClosed("closed during the handshake"))
        self.on_close()

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[: buf.find(b"\r\n")])
            del buf[: end + 4]
            if not status.startswith(b"HTTP/1.1 101"):
                self.handshake.set_exception(ConnectionClosed(status.decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            self.handshake.set_result(None)
        now = time.time()
        pos, end = 0, len(buf)
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if end - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if end - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if end - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            opcode, fin = b0 & 0x0F, b0 & 0x80
            if opcode == 0 and self.fragments is not None:
                self.fragments.append(payload)
                if not fin:
                    continue
                payload, self.fragments = b"".join(self.fragments), None
                opcode = 1
            elif opcode in (1, 2) and not fin:
                self.fragments = [payload]
                continue
            if opcode in (1, 2):
                self.on_message(payload, now)
            elif opcode == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self._write_frame(0x88, payload[:2])
                assert self.transport is not None
                self.transport.close()
            elif opcode == 9:
                self._write_frame(0x8A, payload)
        del buf[:pos]

    def _write_frame(self, first: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionClosed("not open")
        n = len(payload)
        if n < 126:
            head = bytes((first, 0x80 | n))
        elif n < 65536:
            head = bytes((first, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((first, 0x80 | 127)) + n.to_bytes(8, "big")
        # Masking key 0: the RFC requires the mask bit from clients, not a random key's cost.
        self.transport.write(head + b"\x00\x00\x00\x00" + payload)

    async def send(self, text: str) -> None:
        self._write_frame(0x81, text.encode())

    async def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            try:
                self._write_frame(0x88, (1000).to_bytes(2, "big"))
            except ConnectionClosed:
                pass
            self.transport.close()


@dataclass
class Client:
    index: int
    ws: LeanSocket | None = None
    # phase -> list of (k, latency seconds)
    got: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    frames: int = 0
    closed: bool = False
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
        self.poster_cookies: list[str] = spec["poster_cookies"]
        self.pids: dict[str, int] = spec["pids"]
        self.clients: list[Client] = []
        # Posters take turns (``post``); the first also watches the vote burst's tally.
        self.posters = [Client(index=-1 - i) for i in range(len(self.poster_cookies))]
        self.next_poster = 0
        self.connect_errors: list[str] = []
        self.sender_errors: list[str] = []
        self.refused: list[str] = []  # client ids of posts the server answered with an error

    @property
    def sender(self) -> Client:
        return self.posters[0]

    # --- connections -----------------------------------------------------------------
    async def _open(self, client: Client, cookie: str) -> None:
        client.closed = False
        synced = asyncio.get_running_loop().create_future()
        client.waiters["synced"] = synced

        def on_close() -> None:
            client.closed = True

        client.ws = await LeanSocket.connect(
            self.url, {"Cookie": cookie, "Origin": self.origin}, lambda payload, now: self._on_message(client, payload, now), on_close
        )
        await client.ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        await asyncio.wait_for(synced, 30)

    def _on_message(self, client: Client, raw: bytes, now: float) -> None:
        client.frames += 1
        found = MARK.search(raw)
        if found is not None:  # only message frames carry the text
            client.got.setdefault(found[1].decode(), []).append((int(found[2]), now - float(found[3])))
            return
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "tally" and frame.get("motion_id") == client.votes.get("motion_id"):
            ballots = frame.get("ballots", 0)
            if ballots >= client.votes.get("expect", 1 << 60) and "final_at" not in client.votes:
                client.votes["final_at"] = now
        elif kind == "ballot.receipt":
            client.votes.setdefault("receipts", []).append((frame.get("client_id"), now, bool(frame.get("replayed"))))
        elif kind == "error" and frame.get("request_type") == "message.post":
            self.refused.append(f"{frame.get('client_id')}: {frame.get('code')}")
        elif kind == "error" and frame.get("request_type") == "ballot.cast":
            client.votes.setdefault("errors", []).append(f"{frame.get('code')}: {frame.get('message')}"[:200])
        waiter = client.waiters.pop(kind, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(frame)

    async def connect_all(self) -> dict[str, Any]:
        cpu0 = self.cpu()
        rss0 = self.rss()
        for poster, cookie in zip(self.posters, self.poster_cookies, strict=True):
            await self._open(poster, cookie)
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
        for client in [*self.posters, *self.clients]:
            if client.ws is not None:
                await client.ws.close()
        await asyncio.sleep(0.5)

    # --- measurements ----------------------------------------------------------------
    def cpu(self) -> dict[str, float]:
        return {name: proc_cpu_seconds(pid) for name, pid in self.pids.items()}

    def rss(self) -> dict[str, int]:
        return {name: proc_rss_bytes(pid) for name, pid in self.pids.items()}

    def cpu_delta(self, before: dict[str, float]) -> dict[str, float]:
        now = self.cpu()
        return {name: now[name] - before.get(name, 0.0) for name in now}

    async def post(self, phase: str, k: int) -> None:
        """Post message k from the next poster; a poster the server closed is counted and reopened
        (k may be lost)."""
        n = self.next_poster % len(self.posters)
        self.next_poster += 1
        text = f"bench:{phase}:{k}:{time.time():.6f}"
        frame = json.dumps({"type": "message.post", "text": text, "client_id": f"{phase}-{k}"})
        for _attempt in range(2):
            poster = self.posters[n]
            try:
                if poster.ws is None or poster.closed:
                    poster = self.posters[n] = Client(index=-1 - n, votes=poster.votes)
                    await self._open(poster, self.poster_cookies[n])
                assert poster.ws is not None
                await poster.ws.send(frame)
                return
            except Exception as exc:
                self.sender_errors.append(f"{phase}-{k}: {type(exc).__name__}: {exc}"[:200])
                poster.closed = True

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
            "posters": len(self.posters),
            "refused": [r for r in self.refused if r.startswith(f"{phase}-")],
            "server_cpu_s": cpu,
            "cpu_us_per_frame": {name: 1e6 * v / delivered if delivered else None for name, v in cpu.items()},
        }

    # --- vote burst ----------------------------------------------------------------------
    async def vote_phase(self, *, motion_id: int, option_ids: list[int], seconds: float, duplicate_every: int) -> dict[str, Any]:
        """Every live client casts one ballot, spread over ``seconds``; every ``duplicate_every``-th
        sends it a second time with the same idempotency key (a double tap, a retry)."""
        live = [c for c in self.clients if c.ws is not None and not c.closed]
        for client in [self.sender, *live]:
            client.votes = {"motion_id": motion_id, "expect": len(live)}
        cpu0 = self.cpu()
        sent: dict[str, float] = {}
        started = time.perf_counter()
        wall0 = time.time()
        order: list[tuple[float, Client, str, int, int]] = []
        for n, client in enumerate(live):
            at = seconds * n / max(len(live), 1)
            choice = option_ids[n % len(option_ids)]
            order.append((at, client, f"benchballot-{client.index:06d}-{motion_id}", choice, 0))
            if duplicate_every and n % duplicate_every == duplicate_every - 1:
                order.append((at + 0.05, client, f"benchballot-{client.index:06d}-{motion_id}", choice, 1))
        order.sort(key=lambda row: row[0])
        for at, client, key, choice, attempt in order:
            delay = started + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            client_id = f"{key}-{attempt}"
            sent[client_id] = time.time()
            try:
                assert client.ws is not None
                await client.ws.send(
                    json.dumps(
                        {"type": "ballot.cast", "motion_id": motion_id, "choice": choice, "idempotency_key": key, "client_id": client_id}
                    )
                )
            except Exception as exc:
                client.votes.setdefault("errors", []).append(f"send: {type(exc).__name__}"[:200])
        send_done = time.perf_counter()
        deadline = send_done + 20
        while time.perf_counter() < deadline:
            acked = sum(len(c.votes.get("receipts", ())) + len(c.votes.get("errors", ())) for c in live)
            if acked >= len(order) and all("final_at" in c.votes for c in [self.sender, *live]):
                break
            await asyncio.sleep(0.05)
        cpu = self.cpu_delta(cpu0)
        receipts = [r for c in live for r in c.votes.get("receipts", ())]
        errors = [e for c in live for e in c.votes.get("errors", ())]
        ack_latency = [t - sent[cid] for cid, t, _replayed in receipts if cid in sent]
        first_receipts = {cid.rsplit("-", 1)[0] for cid, _t, _r in receipts}
        last_ack = max((t for _cid, t, _r in receipts), default=None)
        watchers = [self.sender, *live]
        final_seen = [c.votes["final_at"] for c in watchers if "final_at" in c.votes]
        return {
            "voters": len(live),
            "ballots_sent": len(order),
            "duplicates_sent": len(order) - len(live),
            "receipts": len(receipts),
            "voters_with_receipt": len(first_receipts),
            "replayed_receipts": sum(1 for _cid, _t, replayed in receipts if replayed),
            "errors": len(errors),
            "error_samples": errors[:5],
            "send_seconds": send_done - started,
            "burst_seconds": (last_ack - wall0) if last_ack else None,
            "ack_latency_ms": percentiles(ack_latency),
            "clients_saw_final_tally": len(final_seen),
            "watchers": len(watchers),
            "final_tally_after_last_ballot_ms": (max(final_seen) - last_ack) * 1000 if final_seen and last_ack else None,
            "server_cpu_s": cpu,
        }


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    room = Room(spec)
    result: dict[str, Any] = {"target": spec["target"]}
    result["connect"] = await room.connect_all()
    phases = spec["phases"]
    # One unmeasured message first: template loading and first-use costs are not latency.
    await room.post("warm", 0)
    await asyncio.sleep(2)
    result["single"] = await room.broadcast_phase("single", rate=phases["single_rate"], count=phases["single_count"], drain_timeout=10)
    result["sustained"] = []
    for rate in phases["rates"]:
        count = max(1, int(rate * phases["sustained_seconds"]))
        result["sustained"].append(
            await room.broadcast_phase(f"r{str(rate).replace('.', '_')}", rate=rate, count=count, drain_timeout=phases["drain_seconds"])
        )
    vote = spec.get("vote")
    if vote:
        result["vote"] = await room.vote_phase(
            motion_id=vote["motion_id"], option_ids=vote["option_ids"], seconds=vote["seconds"], duplicate_every=vote["duplicate_every"]
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
