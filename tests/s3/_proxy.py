"""A small HTTP proxy on 127.0.0.1 in front of moto's S3 server, for tests and benchmarks.

It is ours, not a fake of a library: every request is forwarded to a real (moto) server,
and hooks change what happens on the way:

* ``latency``: seconds added to every request (a realistic S3 round trip for benchmarks);
* ``fault``: a callable deciding, per request, to answer an S3 error instead (503 SlowDown,
  500, 403, ...), either without forwarding or after forwarding (a reply lost on the way back);
* ``serialize_writes``: PUTs, POSTs and DELETEs of one object are forwarded one at a time, as
  S3 itself serializes them; moto checks ``If-None-Match`` and ``If-Match`` (on PutObject,
  DeleteObject and CompleteMultipartUpload, a POST) but then writes or deletes without a
  lock, so without this a conditional-write race cannot tell a correct client from a racy one;
* ``transform``: a callable that may replace the body of an answer on its way back (a
  response cut short, a flipped byte), keeping the headers but the length consistent.

It also counts requests and response body bytes per method. The proxy is bounded (at most
``max_concurrency`` requests forwarded at once, idle connections closed after a few seconds)
and stops itself when used as a context manager.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Final
from urllib.parse import urlsplit

__all__ = ["Fault", "FaultHook", "S3Proxy", "TransformHook", "every_nth"]

_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
)


@dataclass(frozen=True)
class Fault:
    """An S3 error answer injected by the proxy.

    Attributes:
        status: HTTP status (503, 500, 403, 409, ...).
        code: S3 error code for the XML body (``SlowDown``, ``InternalError``, ...).
        after_forward: Forward the request first (so it takes effect) and then answer the
            error, as when a reply is lost on the way back.
    """

    status: int = 503
    code: str = "SlowDown"
    after_forward: bool = False


FaultHook = Callable[[str, str, int], "Fault | None"]
"""``hook(method, path, request number) -> Fault or None`` (request numbers start at 1)."""

TransformHook = Callable[[str, str, Mapping[str, str], int, bytes], bytes]
"""``hook(method, path, request headers, status, body) -> body to send instead``."""


def every_nth(n: int, fault: Fault | None = None, methods: frozenset[str] | None = None) -> FaultHook:
    """Return a hook failing every ``n``-th request (of ``methods``, default all) with ``fault``."""
    chosen = fault or Fault()
    counter = Counter[str]()
    lock = threading.Lock()

    def hook(method: str, path: str, number: int) -> Fault | None:
        if methods is not None and method not in methods:
            return None
        with lock:
            counter["n"] += 1
            return chosen if counter["n"] % n == 0 else None

    return hook


class S3Proxy:
    """Forward HTTP requests from 127.0.0.1:<free port> to ``upstream_url``.

    Args:
        upstream_url: The moto server, e.g. ``http://127.0.0.1:5123``.
        latency: Seconds added to every request.
        fault: Optional `FaultHook`.
        serialize_writes: Forward PUTs, POSTs and DELETEs of one object path one at a time.
        transform: Optional `TransformHook` rewriting answers' bodies.
        max_concurrency: Requests forwarded at once, at most.
    """

    def __init__(
        self,
        upstream_url: str,
        *,
        latency: float = 0.0,
        fault: FaultHook | None = None,
        serialize_writes: bool = False,
        transform: TransformHook | None = None,
        max_concurrency: int = 64,
    ) -> None:
        parts = urlsplit(upstream_url)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.latency = latency
        self.fault = fault
        self.serialize_writes = serialize_writes
        self.transform = transform
        self.requests = Counter[str]()
        self.body_bytes = Counter[str]()
        self.statuses = Counter[int]()
        self._numbers = 0
        self._lock = threading.Lock()
        self._path_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The proxy's URL (use it as ``endpoint_url``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> S3Proxy:
        """Serve in a daemon thread; return self."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> S3Proxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset_counts(self) -> None:
        """Forget the request and byte counts."""
        with self._lock:
            self.requests.clear()
            self.body_bytes.clear()
            self.statuses.clear()

    def _next_number(self) -> int:
        with self._lock:
            self._numbers += 1
            return self._numbers

    def _count(self, method: str, status: int, body_bytes: int) -> None:
        with self._lock:
            self.requests[method] += 1
            self.body_bytes[method] += body_bytes
            self.statuses[status] += 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        local = threading.local()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 5  # idle keep-alive connections end, so handler threads do not pile up

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's
                # algorithm and delayed ACKs would add ~40 ms to every answer.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # quiet

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _upstream(self, method: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                if body or method in {"PUT", "POST"}:
                    headers["Content-Length"] = str(len(body))
                for attempt in range(2):
                    conn = getattr(local, "conn", None)
                    if conn is None:
                        conn = http.client.HTTPConnection(
                            proxy.upstream_host, proxy.upstream_port, timeout=30
                        )
                        local.conn = conn
                    try:
                        conn.request(method, self.path, body=body or None, headers=headers)
                        response = conn.getresponse()
                        data = response.read()
                        return response.status, response.getheaders(), data
                    except (http.client.HTTPException, OSError):
                        conn.close()
                        local.conn = None
                        if attempt:
                            raise
                raise AssertionError("unreachable")

            def _send(self, status: int, headers: list[tuple[str, str]], data: bytes, method: str) -> None:
                # Counted before the answer leaves: a client that has its answer sees it counted.
                proxy._count(method, status, 0 if method == "HEAD" or status == 304 else len(data))
                self.send_response(status)
                has_length = False
                for name, value in headers:
                    lower = name.lower()
                    if lower in _HOP_BY_HOP or lower in {"server", "date"}:
                        continue
                    if lower == "content-length":
                        has_length = True
                        if method != "HEAD" and status != 304:
                            value = str(len(data))
                    self.send_header(name, value)
                if not has_length and method != "HEAD" and status != 304:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if method != "HEAD" and status != 304 and data:
                    self.wfile.write(data)

            def _error(self, fault: Fault, method: str) -> None:
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<Error><Code>{fault.code}</Code><Message>injected by the test proxy</Message>"
                    "<RequestId>proxy</RequestId></Error>"
                ).encode()
                self._send(fault.status, [("Content-Type", "application/xml")], body, method)

            def _forward(self) -> None:
                method = self.command
                body = self._read_body()
                number = proxy._next_number()
                fault = proxy.fault(method, self.path, number) if proxy.fault else None
                if proxy.latency:
                    threading.Event().wait(proxy.latency)
                if fault is not None and not fault.after_forward:
                    self._error(fault, method)
                    return
                with proxy._slots:
                    if proxy.serialize_writes and method in {"PUT", "POST", "DELETE"}:
                        with proxy._lock:
                            path_lock = proxy._path_locks[self.path.split("?", 1)[0]]
                        with path_lock:
                            status, headers, data = self._upstream(method, body)
                    else:
                        status, headers, data = self._upstream(method, body)
                if fault is not None:
                    self._error(fault, method)
                    return
                if proxy.transform is not None:
                    data = proxy.transform(method, self.path, dict(self.headers.items()), status, data)
                self._send(status, headers, data, method)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        return Handler
