"""A fault-injecting TCP proxy on 127.0.0.1, for the fault suite (tests/faults) and bench/fault_report.py.

`FaultProxy(target_port)` forwards 127.0.0.1:<its port> to 127.0.0.1:<target_port>. Each connection has a
mode, taken from the proxy's `mode` when it is accepted and changed for every open connection by
`set_mode(..., existing=True)`:
- "pass": forward both ways;
- "drop": close the connection at once (a new one is closed as soon as it is accepted);
- "stall": keep the connection open and forward nothing (a hung host or a black-holed route);
- "reset": send a TCP RST (SO_LINGER 0, then close), like a host that rebooted or a firewall reject;
- "slow": forward, each chunk after `delay_s` (a congested link).
A stalled connection forwards again when it returns to "pass" (what it held is then sent on).

`HttpFaults` (for moto): with `http=HttpFaults(...)`, requests are read one by one and a fraction of them
answered by the proxy itself with AWS throttling (HTTP 400, the ThrottlingException of the service's wire
format: JSON for logs, CBOR for CloudWatch, XML for SNS/IAM/EC2) or an HTTP 500, never reaching moto.
`arm(pattern, then)` starts the faults mid-run: nothing is injected until a request holding `pattern`
(e.g. b"Action=CreateRoute", the query-protocol body of EC2/IAM) comes; from that request on the fractions
apply, and `then` ("stall", "drop", "reset") puts the whole proxy in that mode, or ("lose-reply") forwards
that one request to moto and closes the connection instead of answering (the call happened, the client
never hears it: botocore retries it).
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import socket
import struct
from dataclasses import dataclass, field

MODES = ("pass", "drop", "stall", "reset", "slow")
LOOPBACK = "127.0.0.1"
CHUNK = 65536


@dataclass
class HttpFaults:
    """Which fraction of HTTP requests the proxy answers itself: throttled (400) or failed (500)."""

    throttle: float = 0.0
    server_error: float = 0.0
    seed: int = 11
    rng: random.Random = field(init=False)
    pattern: bytes = b""  # armed: no fault before a request holding it (see arm)
    then: str = (
        ""  # what that request triggers: "stall", "drop", "reset", "lose-reply" or "" (fractions only)
    )
    tripped: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        if not 0 <= self.throttle + self.server_error <= 1:
            raise ValueError("throttle + server_error must be a fraction between 0 and 1")
        self.rng = random.Random(self.seed)

    def arm(self, pattern: bytes, then: str = "") -> None:
        """Inject nothing until a request holding `pattern`; then the fractions, and `then` (module doc)."""
        if then not in ("", "stall", "drop", "reset", "lose-reply"):
            raise ValueError(f"unknown trigger action {then!r}")
        self.pattern, self.then, self.tripped = pattern, then, False

    def heal(self) -> None:
        """No more faults (the fractions to 0, disarmed)."""
        self.throttle = self.server_error = 0.0
        self.pattern, self.then, self.tripped = b"", "", True

    def trips(self, request: bytes) -> str | None:
        """The trigger action when `request` is the armed pattern's first match ("" for fractions only)."""
        if self.tripped or self.pattern not in request:
            return None
        self.tripped = True
        return self.then

    def pick(self) -> str:
        """ "throttle", "500" or "pass" for the next request."""
        if not self.tripped:
            return "pass"
        x = self.rng.random()
        if x < self.throttle:
            return "throttle"
        if x < self.throttle + self.server_error:
            return "500"
        return "pass"


@dataclass
class FaultCounts:
    """What the proxy did so far (the report's "faults injected")."""

    accepted: int = 0
    dropped: int = 0
    reset: int = 0
    stalled: int = 0
    throttled: int = 0
    server_errors: int = 0
    requests_forwarded: int = 0

    @property
    def injected(self) -> int:
        return self.dropped + self.reset + self.stalled + self.throttled + self.server_errors


class _Conn:
    """One proxied connection: the client's and the target's streams, its mode and its pumps."""

    def __init__(self, proxy: FaultProxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.proxy = proxy
        self.client_reader, self.client_writer = reader, writer
        self.upstream_writer: asyncio.StreamWriter | None = None
        self.mode = proxy.mode
        self.changed = asyncio.Event()  # set on every mode change: a stalled pump looks again
        self.closed = False

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.changed.set()
        if mode in ("drop", "reset"):
            self.close(rst=mode == "reset")

    def close(self, *, rst: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        if rst:
            self.proxy.counts.reset += 1
        for w in (self.client_writer, self.upstream_writer):
            if w is None:
                continue
            if rst and w is self.client_writer:
                sock = w.get_extra_info("socket")
                if sock is not None:  # SO_LINGER on, 0 s: close() sends RST instead of FIN
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                w.transport.abort()
            else:
                w.close()
        self.changed.set()

    async def gate(self) -> bool:
        """Wait while stalled; sleep in slow mode; False when the connection is gone."""
        while not self.closed and self.mode == "stall":
            self.changed.clear()
            await self.changed.wait()
        if self.closed:
            return False
        if self.mode == "slow":
            await asyncio.sleep(self.proxy.delay_s)
        return not self.closed

    async def pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                if not await self.gate():
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.close()


class FaultProxy:
    """A TCP forwarder to 127.0.0.1:`target_port` with fault modes (see the module docstring)."""

    def __init__(
        self, target_port: int, *, mode: str = "pass", delay_s: float = 0.3, http: HttpFaults | None = None
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.target_port = target_port
        self.mode = mode
        self.delay_s = delay_s
        self.http = http
        self.counts = FaultCounts()
        self.conns: set[_Conn] = set()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, LOOPBACK, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self.conns):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def set_mode(self, mode: str, *, existing: bool = True, delay_s: float | None = None) -> None:
        """Make `mode` the mode of new connections and (with `existing`) of every open one."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        if delay_s is not None:
            self.delay_s = delay_s
        if mode == "stall" and existing:
            self.counts.stalled += len(self.conns)
        if mode == "drop" and existing:
            self.counts.dropped += len(self.conns)
        if existing:
            for conn in list(self.conns):
                conn.set_mode(mode)

    def drop_all(self) -> int:
        """Close every open connection (the mode stays): an SSH drop. Returns how many were closed."""
        conns = list(self.conns)
        for conn in conns:
            conn.close()
        self.counts.dropped += len(conns)
        return len(conns)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Conn(self, reader, writer)
        self.conns.add(conn)
        self.counts.accepted += 1
        try:
            if conn.mode == "drop":
                self.counts.dropped += 1
                conn.close()
                return
            if conn.mode == "reset":
                conn.close(rst=True)
                return
            if conn.mode == "stall":
                self.counts.stalled += 1
            if not await conn.gate():  # a stalled accept connects nowhere until it is passed again
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(LOOPBACK, self.target_port)
            except OSError:
                conn.close()
                return
            conn.upstream_writer = up_writer
            if conn.closed:
                up_writer.close()
                return
            if self.http is not None:
                await self._http_loop(conn, up_reader, up_writer)
            else:
                await asyncio.gather(conn.pump(reader, up_writer), conn.pump(up_reader, writer))
        except asyncio.CancelledError:
            pass
        finally:
            conn.close()
            self.conns.discard(conn)
            self._tasks.discard(task)

    async def _http_loop(
        self, conn: _Conn, up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter
    ) -> None:
        """Relay HTTP/1.1 requests one at a time; answer a fraction of them with a fault."""
        assert self.http is not None
        try:
            while not conn.closed:
                head, body = await _read_message(conn.client_reader)
                if head is None:
                    return
                action = self.http.trips(head + body)
                if action in ("stall", "drop", "reset"):
                    self.set_mode(action)  # every connection, this one included
                if not await conn.gate():
                    return
                if action == "lose-reply":  # moto does it; the answer is lost with the connection
                    up_writer.write(head + body)
                    await up_writer.drain()
                    self.counts.requests_forwarded += 1
                    await _read_message(up_reader, response=True)
                    self.counts.dropped += 1
                    return
                verdict = self.http.pick()
                if verdict != "pass":
                    if verdict == "throttle":
                        self.counts.throttled += 1
                    else:
                        self.counts.server_errors += 1
                    conn.client_writer.write(_fault_response(head, verdict))
                    await conn.client_writer.drain()
                    continue
                self.counts.requests_forwarded += 1
                up_writer.write(head + body)
                await up_writer.drain()
                resp_head, resp_body = await _read_message(up_reader, response=True)
                if resp_head is None:
                    return
                if not await conn.gate():
                    return
                conn.client_writer.write(resp_head + resp_body)
                await conn.client_writer.drain()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            return


async def _read_message(
    reader: asyncio.StreamReader, *, response: bool = False
) -> tuple[bytes | None, bytes]:
    """Read one HTTP/1.1 message: (head with its blank line, body). (None, b"") at a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None, b""
        raise
    headers = _headers(head)
    if response and (head.split(b" ", 2)[1:2] in ([b"204"], [b"304"])):
        return head, b""
    if "content-length" in headers:
        return head, await reader.readexactly(int(headers["content-length"]))
    if "chunked" in headers.get("transfer-encoding", ""):
        body = bytearray()
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";")[0].strip(), 16)
            body += line + await reader.readexactly(size + 2)
            if size == 0:
                return head, bytes(body)
    if response:  # no length: the body runs to the end of the connection
        return head, await reader.read()
    return head, b""


def _headers(head: bytes) -> dict[str, str]:
    out = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def service_of(head: bytes) -> str:
    """The signing name of a signed AWS request ("logs", "monitoring", "sns", "ec2"...), else ""."""
    match = _SCOPE.search(_headers(head).get("authorization", ""))
    return match.group(1) if match else ""


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 | len(data)]) + data
    return bytes([0x78, len(data)]) + data  # the messages here are under 256 bytes


def _cbor_map(items: dict[str, str]) -> bytes:
    return bytes([0xA0 | len(items)]) + b"".join(_cbor_text(k) + _cbor_text(v) for k, v in items.items())


def _fault_response(request_head: bytes, verdict: str) -> bytes:
    """The proxy's own answer: the service's ThrottlingException (400) or an InternalFailure (500)."""
    service = service_of(request_head)
    headers = _headers(request_head)
    request_id = f"fault-proxy-{random.getrandbits(32):08x}"
    throttle = verdict == "throttle"
    status = "400 Bad Request" if throttle else "500 Internal Server Error"
    message = "Rate exceeded" if throttle else "We encountered an internal error. Please try again."
    extra = f"x-amzn-RequestId: {request_id}\r\n"
    if "x-amz-target" in headers:  # JSON protocol (logs)
        code = "ThrottlingException" if throttle else "InternalFailure"
        ctype = headers.get("content-type", "application/x-amz-json-1.1")
        body = json.dumps({"__type": code, "message": message}).encode()
    elif "smithy-protocol" in headers:  # RPC v2 CBOR (CloudWatch)
        code = "ThrottlingException" if throttle else "InternalFailure"
        ctype = "application/cbor"
        extra += "smithy-protocol: rpc-v2-cbor\r\n"
        query_code = "Throttling;Sender" if throttle else "InternalFailure;Receiver"
        extra += f"x-amzn-query-error: {query_code}\r\n"
        body = _cbor_map({"__type": code, "message": message})
    elif service == "ec2":
        code = "RequestLimitExceeded" if throttle else "InternalError"
        ctype = "text/xml"
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error><Code>{code}</Code>"
            f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
    else:  # query protocol (SNS, IAM, STS)
        code = "Throttling" if throttle else "InternalFailure"
        kind = "Sender" if throttle else "Receiver"
        ctype = "text/xml"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


class ProxiedLab:
    """A started lab.runtime.LabRuntime seen through fault proxies: one per SSH host (`ssh[(cluster,
    host)]`) and one HTTP proxy in front of moto (`aws`). `inventory` points every host at its proxy (with
    a known_hosts naming the proxy ports) and every cluster's aws.endpoint_url at the moto proxy."""

    def __init__(self, runtime: object, directory: object, *, http: HttpFaults | None = None) -> None:
        self.runtime = runtime
        self.directory = directory
        self.http = http if http is not None else HttpFaults()
        self.ssh: dict[tuple[str, str], FaultProxy] = {}
        self.aws: FaultProxy | None = None
        self.inventory: object = None

    async def start(self) -> ProxiedLab:
        from dataclasses import replace
        from pathlib import Path
        from urllib.parse import urlsplit

        runtime = self.runtime
        for key, host in runtime.hosts.items():  # type: ignore[attr-defined]
            self.ssh[key] = await FaultProxy(host.port).start()
        endpoint = runtime.endpoint_url  # type: ignore[attr-defined]
        if endpoint:
            self.aws = await FaultProxy(urlsplit(endpoint).port or 80, http=self.http).start()
        known = Path(str(self.directory)) / "known_hosts.proxied"
        lines = []
        for key, host in runtime.hosts.items():  # type: ignore[attr-defined]
            key_text = host.public_host_key_line().split(" ", 1)[1]
            lines.append(f"[{LOOPBACK}]:{self.ssh[key].port} {key_text}")
        known.write_text("\n".join(lines) + "\n")
        base = runtime.inventory()  # type: ignore[attr-defined]
        clusters = []
        for cluster in base.clusters:
            hosts = tuple(
                replace(h, port=self.ssh[(cluster.name, h.name)].port, known_hosts=str(known))
                for h in cluster.hosts
            )
            aws = replace(cluster.aws, endpoint_url=self.aws.url) if self.aws is not None else cluster.aws
            clusters.append(replace(cluster, hosts=hosts, aws=aws))
        self.inventory = replace(base, clusters=tuple(clusters))
        return self

    def host_proxy(self, cluster: str, host: str) -> FaultProxy:
        return self.ssh[(cluster, host)]

    def proxies(self) -> list[FaultProxy]:
        return [*self.ssh.values(), *([self.aws] if self.aws is not None else [])]

    def counts(self) -> FaultCounts:
        total = FaultCounts()
        for proxy in self.proxies():
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(proxy.counts, name))
        return total

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.proxies()), return_exceptions=True)
