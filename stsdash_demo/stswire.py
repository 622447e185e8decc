"""What the STS proxy says and remembers: real STS error documents, queued faults, recorded calls."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

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
