"""A local STS endpoint for the operations moto does not implement (DecodeAuthorizationMessage).

It checks each request the way STS (and moto with auth on) would: the SigV4 signature is recomputed
over the signed headers and body with the known secret, the scope must name `sts`, and the date must
be within 15 minutes. A request that fails any check gets STS's real error document. boto3 signing
against the same server passes (see the tests), so the checks are those a real client meets.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import pytest

from stsdash_demo.sigv4 import parse_authorization, sigv4_signature
from stsdash_demo.stswire import error_body

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
KEY_ID = "AKIAFAKESTSEXAMPLE01"
SECRET = "FAKE-sts-secret-EXAMPLE"


@dataclass
class FakeSts:
    url: str = ""
    decoded: str = "{}"
    calls: list[dict[str, str]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def check(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        auth = parse_authorization(handler.headers.get("Authorization", ""))
        credential = auth.get("Credential", "")
        key_id, _, scope = credential.partition("/")
        if key_id != KEY_ID:
            return 403, error_body("InvalidClientTokenId", "The security token is invalid.")
        if not scope.endswith("/sts/aws4_request"):
            return 403, error_body("SignatureDoesNotMatch", "Credential should be scoped to 'sts'.")
        amz_date = handler.headers.get("X-Amz-Date", "")
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return 403, error_body("IncompleteSignature", "X-Amz-Date is missing or malformed.")
        if abs((datetime.now(UTC) - when).total_seconds()) > 900:
            return 403, error_body("SignatureDoesNotMatch", "Signature expired")
        signed = auth.get("SignedHeaders", "").split(";")
        if not {"host", "x-amz-date"} <= set(signed):
            return 403, error_body("SignatureDoesNotMatch", "host and x-amz-date must be signed")
        expected = sigv4_signature(
            secret=SECRET,
            method=handler.command,
            path=handler.path.split("?", 1)[0],
            query=handler.path.split("?", 1)[1] if "?" in handler.path else "",
            headers=dict(handler.headers.items()),
            signed_headers=signed,
            body=body,
            amz_date=amz_date,
            scope=scope,
        )
        if not hmac.compare_digest(expected, auth.get("Signature", "")):
            return 403, error_body("SignatureDoesNotMatch", "The request signature does not match")
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        self.calls.append(params)
        if params.get("Version") != "2011-06-15":
            return 400, error_body("InvalidAction", "Could not find operation for version")
        if params.get("Action") != "DecodeAuthorizationMessage" or not params.get("EncodedMessage"):
            return 400, error_body("InvalidAction", f"Could not find operation {params.get('Action')}")
        if params["EncodedMessage"].startswith("NOT-A-MESSAGE"):
            return 400, error_body("InvalidAuthorizationMessageException", "Invalid authorization message")
        xml = (
            f'<DecodeAuthorizationMessageResponse xmlns="{NS}"><DecodeAuthorizationMessageResult>'
            f"<DecodedMessage>{escape(self.decoded)}</DecodedMessage></DecodeAuthorizationMessageResult>"
            "<ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata>"
            "</DecodeAuthorizationMessageResponse>"
        )
        return 200, xml.encode()


@pytest.fixture
def fake_sts() -> Iterator[FakeSts]:
    fake = FakeSts()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, reply = fake.check(self, body)
            if status != 200:
                fake.rejected.append(reply.decode())
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
