"""Small local stand-ins for the EC2 instance metadata service and the container credentials endpoint.

They speak the documented protocol closely enough that botocore's own InstanceMetadataFetcher and
ContainerMetadataFetcher accept them (tests/test_metadata_sources.py checks that first), and they
record every request so a test can see the IMDSv2 token and the Authorization header were sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = "stsdash-test-instance-role"
TOKEN = "FAKE-imds-token-EXAMPLE"
AUTH = "FAKE-container-auth-EXAMPLE"


def role_credentials(prefix: str) -> dict[str, str]:
    return {
        "Code": "Success",
        "Type": "AWS-HMAC",
        "AccessKeyId": f"ASIA{prefix}EXAMPLE",
        "SecretAccessKey": f"FAKE-{prefix.lower()}-secret",
        "Token": f"FAKE-{prefix.lower()}-token",
        "Expiration": "2099-01-01T00:00:00Z",
        "LastUpdated": "2024-01-01T00:00:00Z",
    }


@dataclass
class Fake:
    url: str
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # method, path, headers
    creds: dict[str, str] = field(default_factory=dict)


@contextmanager
def _serve(handler_for: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def imds(*, v1_only: bool = False) -> Iterator[Fake]:
    """IMDS: PUT latest/api/token, then the role name and its credentials (the token is required
    unless `v1_only`, where the token path answers 403 as IMDSv1-only services do)."""
    fake = Fake("", creds=role_credentials("IMDS"))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, body: str = "") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self) -> None:
            fake.requests.append(("PUT", self.path, dict(self.headers)))
            if v1_only:
                return self._reply(403)
            ttl = self.headers.get("x-aws-ec2-metadata-token-ttl-seconds")
            if self.path != "/latest/api/token" or not ttl:
                return self._reply(400)
            self._reply(200, TOKEN)

        def do_GET(self) -> None:
            fake.requests.append(("GET", self.path, dict(self.headers)))
            if not v1_only and self.headers.get("x-aws-ec2-metadata-token") != TOKEN:
                return self._reply(401)
            base = "/latest/meta-data/iam/security-credentials/"
            if self.path == base:
                return self._reply(200, ROLE)
            if self.path == base + ROLE:
                return self._reply(200, json.dumps(fake.creds))
            self._reply(404)

    with _serve(Handler) as server:
        fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
        yield fake


@contextmanager
def container(*, auth: str | None = AUTH) -> Iterator[Fake]:
    """The container credentials endpoint: GET /creds, with `Authorization: <auth>` when auth is set."""
    fake = Fake("", creds=role_credentials("TASK"))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            fake.requests.append(("GET", self.path, dict(self.headers)))
            allowed = auth is None or self.headers.get("Authorization") == auth
            ok = self.path.startswith("/creds") and allowed
            data = json.dumps(fake.creds if ok else {"message": "denied"}).encode()
            self.send_response(200 if ok else 403)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with _serve(Handler) as server:
        fake.url = f"http://127.0.0.1:{server.server_address[1]}/creds"
        yield fake
