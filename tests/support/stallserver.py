"""Local servers that misbehave on purpose: accept and never answer, trickle a byte a second, send an
endless chunked body, or a gzip bomb. For the "never hold the user" tests."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"


class StallServer:
    """One listening socket on 127.0.0.1; `accepted` is set when a request has been read."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.accepted = threading.Event()
        self.requests = 0
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        if mode == "gzip":
            _bomb()  # built before the client connects, not while it waits
        self.url = f"http://127.0.0.1:{self.port}"
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self._conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(None)
            conn.recv(65536)
            self.requests += 1
            self.accepted.set()
            getattr(self, f"_{self.mode}")(conn)
        except OSError:
            pass

    def _silent(self, conn: socket.socket) -> None:
        self._stop.wait()

    def _trickle(self, conn: socket.socket) -> None:
        for byte in HEADERS + b"Content-Length: 100000\r\n\r\n" + b"<" * 100000:
            if self._stop.wait(1.0):
                return
            conn.send(bytes([byte]))

    def _endless(self, conn: socket.socket) -> None:
        conn.sendall(HEADERS + b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"<a>" * 20000
        while not self._stop.is_set():
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def _gzip(self, conn: socket.socket) -> None:
        body = _bomb()
        conn.sendall(HEADERS + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        self._stop.wait()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        for conn in self._conns:
            conn.close()


_BOMB: list[bytes] = []


def _bomb() -> bytes:
    """1 GiB of zeros in about 1 MB of gzip: 64 gzip members of 16 MiB each (decoders read them all)."""
    if not _BOMB:
        _BOMB.append(gzip.compress(b"\0" * (1 << 24), compresslevel=9) * 64)
    return _BOMB[0]


@contextmanager
def stall_server(mode: str) -> Iterator[StallServer]:
    server = StallServer(mode)
    try:
        yield server
    finally:
        server.close()


def wait_for(event: threading.Event, what: str, timeout: float = 60) -> None:
    if not event.wait(timeout):
        raise AssertionError(f"timed out waiting for {what}")


__all__ = ["StallServer", "stall_server", "wait_for"]
