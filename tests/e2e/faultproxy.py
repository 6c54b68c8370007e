"""A TCP proxy on loopback that the test can cut, for fault injection
between relops and the API server (a network partition, as seen by relops).

    proxy = FaultProxy(upstream_port)   # listens on 127.0.0.1:proxy.port
    proxy.partition()                   # drop every connection, refuse new ones
    proxy.heal()
    proxy.close()

TLS passes through untouched (the API server's certificate names 127.0.0.1).

HttpFaultProxy works one layer up, for an API server that is slow or failing:
it terminates TLS with a certificate of its own, reads each request, and for a
share of them waits, answers 429 (with Retry-After) or 500 itself, or resets
the connection; the rest go on to the API server over TLS with the client
certificate of the kubeconfig it was given. It records every request it saw.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._partitioned = False
        self._connections: list[socket.socket] = []
        self._closed = False
        self.accepted = 0
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def partition(self) -> None:
        with self._lock:
            self._partitioned = True
            connections, self._connections = self._connections, []
        for conn in connections:
            _close(conn)

    def heal(self) -> None:
        with self._lock:
            self._partitioned = False

    def close(self) -> None:
        self._closed = True
        self.partition()
        _close(self._listener)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._partitioned:
                    _close(client)
                    continue
                self.accepted += 1
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            # partition() may have run since the accept: it must cut this
            # connection too, so the check and the registration are one step.
            with self._lock:
                if self._partitioned:
                    _close(client)
                    _close(upstream)
                    continue
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


@dataclass
class Faults:
    """Shares (0..1) of requests that get each fault; the rest pass. A delayed
    request still reaches the API server."""

    delay: float = 0.0
    max_delay: float = 1.0  # seconds, uniform in [0, max_delay]
    too_many_requests: float = 0.0
    server_error: float = 0.0
    reset: float = 0.0


@dataclass
class SeenRequest:
    at: float  # time.monotonic() when the request head was read
    method: str
    target: str
    outcome: str  # "pass", "delay", "429", "500" or "reset"

    @property
    def watch(self) -> bool:
        query = self.target.partition("?")[2]
        return any(p in ("watch=true", "watch=1") for p in query.split("&"))


class HttpFaultProxy:
    """An HTTPS proxy in front of the API server that injects HTTP-level faults.

        proxy = HttpFaultProxy(kubeconfig_json, workdir, seed=7)
        proxy.kubeconfig          # a kubeconfig file that reaches the server through it
        proxy.faults = Faults(too_many_requests=0.2, reset=0.05)
        proxy.force(["reset", "429"])  # the next two requests, whatever the shares
        proxy.heal()
        proxy.cut_watches()       # reset every open watch
        proxy.requests            # what it saw, in order
        proxy.close()

    Forwarded requests carry `Connection: close`, so each one has its own
    upstream connection and a watch is streamed until either side ends it.
    """

    def __init__(self, kubeconfig: dict, workdir: Path, seed: int):
        self._dir = Path(tempfile.mkdtemp(prefix="faultproxy-", dir=workdir))
        cluster = kubeconfig["clusters"][0]["cluster"]
        user = kubeconfig["users"][0]["user"]
        host, _, port = cluster["server"].removeprefix("https://").partition(":")
        self.upstream = (host, int(port or 443))
        self._upstream_context = ssl.create_default_context(
            cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        (self._dir / "client.crt").write_bytes(base64.b64decode(user["client-certificate-data"]))
        (self._dir / "client.key").write_bytes(base64.b64decode(user["client-key-data"]))
        self._upstream_context.load_cert_chain(self._dir / "client.crt", self._dir / "client.key")

        # A self-signed serving certificate for 127.0.0.1; the proxied kubeconfig trusts it.
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=faultproxy",
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self._dir / "serving.key"), "-out", str(self._dir / "serving.crt")],
            check=True, capture_output=True)
        self._server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server_context.load_cert_chain(self._dir / "serving.crt", self._dir / "serving.key")

        self.faults = Faults()
        self.requests: list[SeenRequest] = []
        self._random = random.Random(seed)
        self._forced: list[str] = []
        self._lock = threading.Lock()
        self._watches: set[socket.socket] = set()
        self._closed = False
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]

        proxied = json.loads(json.dumps(kubeconfig))
        proxied["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{self.port}"
        proxied["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
            (self._dir / "serving.crt").read_bytes()).decode()
        self.kubeconfig = str(self._dir / "kubeconfig")
        Path(self.kubeconfig).write_text(json.dumps(proxied))
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def force(self, outcomes: list[str]) -> None:
        """The next requests get these outcomes ("delay", "429", "500",
        "reset"), in order, before the shares apply again: each fault is
        injected at least once, whatever the dice say."""
        with self._lock:
            self._forced.extend(outcomes)

    def heal(self) -> None:
        """No more faults, forced ones not yet used included."""
        with self._lock:
            self.faults = Faults()
            self._forced.clear()

    def cut_watches(self) -> int:
        with self._lock:
            watches, self._watches = self._watches, set()
        for conn in watches:
            _reset(conn)
        return len(watches)

    def close(self) -> None:
        self._closed = True
        self.cut_watches()
        _close(self._listener)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _decide(self) -> str:
        faults = self.faults
        with self._lock:
            roll = self._random.random()
            delay = self._random.random() * faults.max_delay
            if self._forced:
                forced = self._forced.pop(0)
                return forced if forced != "delay" else f"delay:{delay:.3f}"
        for outcome, share in (("reset", faults.reset), ("429", faults.too_many_requests),
                               ("500", faults.server_error), ("delay", faults.delay)):
            if roll < share:
                return outcome if outcome != "delay" else f"delay:{delay:.3f}"
            roll -= share
        return "pass"

    def _serve(self, raw: socket.socket) -> None:
        try:
            client = self._server_context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            _close(raw)
            return
        try:
            buffer = b""
            while not self._closed:
                request, buffer = _read_request(client, buffer)
                if request is None:
                    return
                head, body = request
                method, target = head.split(b" ", 2)[:2]
                decided = self._decide()
                seen = SeenRequest(time.monotonic(), method.decode(), target.decode(),
                                   decided.partition(":")[0])
                with self._lock:
                    self.requests.append(seen)
                if seen.outcome == "reset":
                    _reset(client)
                    return
                if seen.outcome in ("429", "500"):
                    client.sendall(_status_response(int(seen.outcome)))
                    continue
                if seen.outcome == "delay":
                    time.sleep(float(decided.partition(":")[2]))
                self._forward(client, head, body, seen.watch)
                return
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with self._lock:
                self._watches.discard(client)
            _close(client)

    def _forward(self, client: ssl.SSLSocket, head: bytes, body: bytes, watch: bool) -> None:
        try:
            upstream = self._upstream_context.wrap_socket(
                socket.create_connection(self.upstream, timeout=10),
                server_hostname=self.upstream[0])
        except (OSError, ssl.SSLError):
            client.sendall(_status_response(503))
            return
        try:
            upstream.settimeout(None)
            upstream.sendall(_with_connection_close(head) + body)
            if watch:
                with self._lock:
                    self._watches.add(client)
            response = b""
            while b"\r\n\r\n" not in response:
                data = upstream.recv(65536)
                if not data:
                    return
                response += data
            response_head, _, rest = response.partition(b"\r\n\r\n")
            client.sendall(_with_connection_close(response_head + b"\r\n\r\n") + rest)
            while True:
                data = upstream.recv(65536)
                if not data:
                    return
                client.sendall(data)
        finally:
            _close(upstream)


def _read_request(conn: ssl.SSLSocket, buffer: bytes) -> tuple[tuple[bytes, bytes] | None, bytes]:
    """One request (head, body) from a keep-alive connection; None at its end."""
    while b"\r\n\r\n" not in buffer:
        data = conn.recv(65536)
        if not data:
            return None, b""
        buffer += data
    head, _, buffer = buffer.partition(b"\r\n\r\n")
    head += b"\r\n\r\n"
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        raise ValueError("chunked request bodies are not supported")
    length = int(headers.get(b"content-length", b"0"))
    while len(buffer) < length:
        data = conn.recv(65536)
        if not data:
            return None, b""
        buffer += data
    return (head, buffer[:length]), buffer[length:]


def _with_connection_close(head: bytes) -> bytes:
    lines = [line for line in head.rstrip(b"\r\n").split(b"\r\n")
             if not line.lower().startswith((b"connection:", b"keep-alive:"))]
    return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n"


def _status_response(code: int) -> bytes:
    reason = {429: ("Too Many Requests", "TooManyRequests"),
              500: ("Internal Server Error", "InternalError"),
              503: ("Service Unavailable", "ServiceUnavailable")}[code]
    status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": f"faultproxy: injected {code}", "reason": reason[1], "code": code}
    if code == 429:
        status["details"] = {"retryAfterSeconds": 1}
    body = json.dumps(status).encode()
    retry = b"Retry-After: 1\r\n" if code == 429 else b""
    return (f"HTTP/1.1 {code} {reason[0]}\r\n".encode() + retry +
            b"Content-Type: application/json\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n\r\n" + body)


def _reset(sock: socket.socket) -> None:
    """Closes with a TCP RST (SO_LINGER 0), as a failing load balancer does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
