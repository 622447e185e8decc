"""CredentialServer: the ECS container credentials protocol on 127.0.0.1, for one profile.

SDKs find it through AWS_CONTAINER_CREDENTIALS_FULL_URI and send AWS_CONTAINER_AUTHORIZATION_TOKEN in
the Authorization header; they fetch again by themselves before the credentials expire. The answer is
`{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"?}`.

Security model (README: "The credential server"):
  * it listens on 127.0.0.1 only, on a random port;
  * every request must carry the random token (32 bytes from `secrets`), compared in constant time;
  * a Host header that is not a loopback name is refused, so a web page that rebinds its DNS name to
    127.0.0.1 cannot read credentials through the user's browser;
  * only GET on the one path is served; anything else gets a JSON error, never credentials;
  * logs name the profile, the caller's user agent and the expiry; never a key, secret or the token.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError
from stsdash.timeutil import format_utc

if TYPE_CHECKING:
    from stsdash.broker.cache import ServedCredentials

log = logging.getLogger(__name__)

PATH = "/credentials"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


@dataclass
class Client:
    """One caller as the dashboard shows it: its user agent's product, and how often it asked."""

    agent: str
    requests: int = 0
    refused: int = 0
    last_seen: float = field(default_factory=time.time)


class CredentialServer:
    """A loopback HTTP server handing out `served`'s credentials to holders of the token."""

    def __init__(
        self,
        served: ServedCredentials,
        *,
        port: int = 0,
        token: str | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.served = served
        self.token = token or secrets.token_urlsafe(32)
        self.clients: dict[str, Client] = {}
        self.on_change = on_change
        self._clients_lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def environment(self) -> dict[str, str]:
        """What a child process needs to find this server (the token is in it: pass it, never log it)."""
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": self.token,
        }

    def start(self) -> CredentialServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="stsdash-serve", daemon=True
        )
        self._thread.start()
        self.served.start()
        return self

    def stop(self) -> None:
        self.served.stop()
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> CredentialServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def snapshot(self) -> list[Client]:
        with self._clients_lock:
            return [Client(c.agent, c.requests, c.refused, c.last_seen) for c in self.clients.values()]

    # -- request handling (server threads) -----------------------------------------------------------
    def authorized(self, header: str | None) -> bool:
        if header is None:
            return False
        return hmac.compare_digest(header.encode(), self.token.encode())

    def count(self, agent: str, *, refused: bool) -> None:
        with self._clients_lock:
            client = self.clients.setdefault(agent, Client(agent))
            client.last_seen = time.time()
            if refused:
                client.refused += 1
            else:
                client.requests += 1
        if self.on_change is not None:
            self.on_change()

    def answer(self) -> tuple[int, dict[str, str]]:
        try:
            creds = self.served.get()
        except StsdashError as exc:
            return 503, {"code": "CredentialsUnavailable", "message": str(exc)}
        body = {"AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key}
        if creds.session_token:
            body["Token"] = creds.session_token
        if creds.expiration is not None:
            body["Expiration"] = format_utc(creds.expiration)
        return 200, body


def host_is_loopback(host: str | None) -> bool:
    """The Host header names 127.0.0.1, localhost or [::1], with or without a port."""
    if not host:
        return False
    host = host.strip().lower()
    if host.startswith("["):
        name = host[: host.find("]") + 1] if "]" in host else host
        rest = host[len(name) :]
    else:
        name, _, port = host.partition(":")
        rest = f":{port}" if port else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return False
    return name in LOOPBACK_HOSTS


def user_agent_product(value: str | None) -> str:
    """`Boto3/1.43.0 md/...` -> `Boto3/1.43.0`; printable ASCII only, bounded, never empty."""
    first = (value or "").split(" ", 1)[0]
    cleaned = "".join(ch for ch in first if 32 < ord(ch) < 127)[:40]
    return cleaned or "unknown client"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False  # a random port; never steal one
    # socketserver listens with a backlog of 5: when many SDKs start at once the kernel drops the
    # other connections' SYNs and each client waits a whole second (then 3, 7...) to retry.
    request_queue_size = 1024

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("connection error from a local client", exc_info=True)


def _handler_for(server: CredentialServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "stsdash"
        sys_version = ""

        def do_GET(self) -> None:
            agent = user_agent_product(self.headers.get("User-Agent"))
            if not host_is_loopback(self.headers.get("Host")):
                server.count(agent, refused=True)
                log.warning("refused a request with a non-loopback Host header (DNS rebinding?)")
                self._send(403, {"code": "Forbidden", "message": "Host must be 127.0.0.1 or localhost"})
                return
            if not server.authorized(self.headers.get("Authorization")):
                server.count(agent, refused=True)
                log.warning("refused a request without the right authorization token (%s)", agent)
                self._send(401, {"code": "Unauthorized", "message": "missing or wrong authorization token"})
                return
            if self.path.split("?", 1)[0] != PATH:
                self._send(404, {"code": "NotFound", "message": f"credentials are served at {PATH}"})
                return
            status, body = server.answer()
            server.count(agent, refused=status != 200)
            if status == 200:
                log.info("served %s to %s", server.served.profile, agent)
            else:
                log.warning("could not serve %s to %s: %s", server.served.profile, agent, body["message"])
            self._send(status, body)

        def _refuse_method(self) -> None:
            self._send(405, {"code": "MethodNotAllowed", "message": "only GET is served"})

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _refuse_method

        def _send(self, status: int, body: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the default access log is replaced by the lines above (never the token)

    return Handler
