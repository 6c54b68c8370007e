"""A TCP proxy on loopback that the test can cut, for fault injection
between relops and the API server (a network partition, as seen by relops).

    proxy = FaultProxy(upstream_port)   # listens on 127.0.0.1:proxy.port
    proxy.partition()                   # drop every connection, refuse new ones
    proxy.heal()
    proxy.close()

TLS passes through untouched (the API server's certificate names 127.0.0.1).
"""

from __future__ import annotations

import socket
import threading


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
            with self._lock:
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
