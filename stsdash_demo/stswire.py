"""The STS proxy's wire side: real STS error documents, queued faults, recorded calls, the HTTP server."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from stsdash_demo.stsproxy import StsProxy

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
MFA_INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
MFA_BAD_SERIAL = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial "
    "number is valid and associated with this user."
)
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}


def error_body(code: str, message: str, *, type_: str = "Sender", request_id: str = "") -> bytes:
    """A real STS ErrorResponse document."""
    rid = request_id or hashlib.md5(f"{time.time_ns()}".encode()).hexdigest()
    return (
        f'<ErrorResponse xmlns="{STS_NS}">\n  <Error>\n    <Type>{escape(type_)}</Type>\n'
        f"    <Code>{escape(code)}</Code>\n    <Message>{escape(message)}</Message>\n  </Error>\n"
        f"  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n"
    ).encode()


@dataclass
class Fault:
    """One queued answer: an STS error, a raw body, or a dropped connection (`drop=True`)."""

    status: int = 400
    body: bytes = b""
    action: str | None = None  # None matches any Action
    remaining: int = 1
    drop: bool = False
    content_type: str = "text/xml"


@dataclass
class RecordedCall:
    action: str
    params: dict[str, str]
    access_key_id: str | None
    token_code_sent: bool
    status: int = 0
    answered_by: str = "upstream"  # upstream | fault | proxy
    # time.perf_counter() when the request arrived, was passed upstream, and was answered (0.0: not
    # reached): a timeline of a run shows how many requests were in flight and where time went.
    arrived: float = 0.0
    forwarded: float = 0.0
    answered: float = 0.0
    client_port: int = 0  # the client's TCP port: requests on one kept-alive connection share it


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: with more clients connecting at once the kernel drops
    # their SYNs and each retries a whole second later, which a benchmark would blame on the client.
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        return  # dropped connections are deliberate; tracebacks could show request data


def send_reply(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "text/xml"
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("x-amzn-RequestId", hashlib.md5(body).hexdigest())
    handler.end_headers()
    handler.wfile.write(body)


def handler_for(proxy: StsProxy) -> type[BaseHTTPRequestHandler]:
    """A request handler class that hands every request to `proxy`."""
    class Handler(BaseHTTPRequestHandler):
        server_version = "stsproxy"
        # Keep-alive, like STS: a client that reuses connections is measured doing so. Every answer
        # carries Content-Length, which HTTP/1.1 persistent connections need.
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle on, the body of a kept-alive
        # connection waits for the client's delayed ACK (~40 ms per request).
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            proxy.handle(self)

        def do_GET(self) -> None:
            proxy.handle(self)

        def log_message(self, format: str, *args: object) -> None:  # silent: params may hold codes
            return

    return Handler
