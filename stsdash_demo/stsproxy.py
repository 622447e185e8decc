"""A loopback HTTP proxy in front of moto's STS, adding what moto lacks for realistic tests and demos.

What it does, per request:

* counts calls per Action, and how many carried a TokenCode, and records each call's parameters;
* optionally sleeps (latency), or answers from a queue of injected faults instead of forwarding:
  a real STS `ErrorResponse` (code, message, HTTP status), a raw body (truncated/malformed XML), or
  a dropped connection;
* enforces MFA the way STS does: a TokenCode is single-use per device, a `valid_code` predicate
  decides which codes are right, `mfa_serials` which devices exist, and `require_mfa(role_arn)`
  makes AssumeRole fail unless a code was sent or the caller holds an MFA session;
* rejects signatures older than 15 minutes (clock skew), which moto does not check.

Session keys. moto's auth layer does not know the keys its own GetSessionToken returns. The proxy
remembers every GetSessionToken answer it relays; a later request signed with such a session key is
verified here (signature, token, expiry) and then re-signed with the long-term key that created the
session, if that key was registered with `register_key` (moto then checks it, with auth on). If it
was not registered, the request is forwarded untouched, which suits a moto running with auth off.
Every other request is forwarded byte for byte, so moto checks its signature itself.

Nothing is logged; recorded parameters stay in memory (they may hold MFA codes, never secret keys).
"""

from __future__ import annotations

import hmac
import http.client
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from stsdash_demo.sigv4 import parse_authorization, sigv4_signature
from stsdash_demo.stswire import (
    HOP_BY_HOP,
    MFA_BAD_SERIAL,
    MFA_INVALID,
    Fault,
    QuietServer,
    RecordedCall,
    error_body,
    handler_for,
    send_reply,
)

_EXPIRATION = re.compile(r"<Expiration>[^<]*</Expiration>")

__all__ = ["Fault", "RecordedCall", "StsProxy", "error_body"]


@dataclass
class _Session:
    secret: str
    token: str
    source_key_id: str | None
    expires_at: datetime
    mfa: bool


class StsProxy:
    """Threaded loopback proxy; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        upstream: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        valid_code: Callable[[str], bool] | None = None,
        mfa_serials: set[str] | None = None,
        check_clock_skew: bool = True,
    ) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the STS proxy only listens on loopback")
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.latency = latency
        self.action_latency: dict[str, float] = {}
        # Action -> seconds: successful answers say the credentials expire that soon (STS's minimum
        # is 900 s; tests and the demo need SDKs to refresh within seconds).
        self.expire_in: dict[str, float] = {}
        self.valid_code = valid_code
        self.mfa_serials = mfa_serials
        self.check_clock_skew = check_clock_skew
        self.calls: Counter[str] = Counter()
        self.token_calls: Counter[str] = Counter()
        self.records: list[RecordedCall] = []
        self.in_flight = 0  # requests being handled now, and the most at any one moment
        self.max_in_flight = 0
        self.gate_timed_out = False
        self._gate: tuple[str | None, int, float] | None = None  # (action, requests to wait for, timeout)
        self._gate_arrivals = 0
        self._gate_open = threading.Condition()
        self._faults: list[Fault] = []
        self._used_codes: set[tuple[str, str]] = set()
        self._keys: dict[str, str] = {}
        self._sessions: dict[str, _Session] = {}
        self._mfa_roles: set[str] = set()
        self._lock = threading.Lock()
        self._server = QuietServer((host, port), handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def start(self) -> StsProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="stsproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> StsProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget counts, records, faults, used codes and MFA rules (registered keys and sessions stay)."""
        with self._lock:
            self.calls.clear()
            self.token_calls.clear()
            self.records.clear()
            self._faults.clear()
            self._used_codes.clear()
            self._mfa_roles.clear()
            self.action_latency.clear()
            self.expire_in.clear()
            self.latency = 0.0
            self.valid_code = None
            self.mfa_serials = None
            self.max_in_flight = self.in_flight
            self.gate_timed_out = False
        with self._gate_open:
            self._gate = None
            self._gate_arrivals = 0
            self._gate_open.notify_all()

    def hold_until_concurrent(self, count: int, *, action: str | None = None, timeout: float = 30.0) -> None:
        """Hold requests (of `action`, or all) until `count` of them are waiting at once, then let all
        through. A client that never has `count` requests in flight gets its requests through after
        `timeout` instead, and `gate_timed_out` says so: a test of concurrency waits on events, not
        on the clock."""
        with self._gate_open:
            self._gate = (action, count, timeout)
            self._gate_arrivals = 0

    def release_held(self) -> None:
        """Let every held request through now (and no longer hold new ones)."""
        with self._gate_open:
            self._gate = None
            self._gate_open.notify_all()

    def register_key(self, access_key_id: str, secret_access_key: str) -> None:
        """A long-term key the proxy may re-sign with on behalf of its GetSessionToken sessions."""
        with self._lock:
            self._keys[access_key_id] = secret_access_key

    def require_mfa(self, role_arn: str) -> None:
        """AssumeRole of `role_arn` needs a TokenCode or MFA-session keys (aws:MultiFactorAuthPresent)."""
        with self._lock:
            self._mfa_roles.add(role_arn)

    def inject_error(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        count: int = 1,
        action: str | None = None,
        type_: str = "Sender",
    ) -> None:
        """Answer the next `count` matching requests with a real STS ErrorResponse."""
        self._push(
            Fault(status=status, body=error_body(code, message, type_=type_), action=action, remaining=count)
        )

    def inject_raw(
        self,
        body: bytes,
        *,
        status: int = 200,
        count: int = 1,
        action: str | None = None,
        content_type: str = "text/xml",
    ) -> None:
        """Answer with an arbitrary body (truncated or malformed XML, an HTML error page...)."""
        self._push(Fault(status=status, body=body, action=action, remaining=count, content_type=content_type))

    def inject_drop(self, *, count: int = 1, action: str | None = None) -> None:
        """Close the connection without answering (the client sees a reset)."""
        self._push(Fault(drop=True, action=action, remaining=count))

    def _push(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def params_of(self, action: str) -> list[dict[str, str]]:
        with self._lock:
            return [r.params for r in self.records if r.action == action]

    # -- request handling ---------------------------------------------------------------------------

    def _take_fault(self, action: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.action in (None, action):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._handle(handler)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _pass_gate(self, action: str) -> None:
        with self._gate_open:
            gate = self._gate
            if gate is None or gate[0] not in (None, action):
                return
            self._gate_arrivals += 1
            self._gate_open.notify_all()
            if not self._gate_open.wait_for(lambda: self._gate is None or self._gate_arrivals >= gate[1],
                                            timeout=gate[2]):
                self.gate_timed_out = True

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if parts.query:
            params.update(parse_qsl(parts.query, keep_blank_values=True))
        action = params.get("Action", "")
        auth = parse_authorization(handler.headers.get("Authorization", ""))
        key_id = auth.get("Credential", "").split("/")[0] or None
        record = RecordedCall(
            action,
            params,
            key_id,
            "TokenCode" in params,
            arrived=time.perf_counter(),
            client_port=int(handler.client_address[1]),
        )
        with self._lock:
            self.calls[action] += 1
            if record.token_code_sent:
                self.token_calls[action] += 1
            self.records.append(record)
            delay = self.latency + self.action_latency.get(action, 0.0)
        self._pass_gate(action)
        if delay:
            time.sleep(delay)

        fault = self._take_fault(action)
        if fault is not None:
            record.answered_by = "fault"
            if fault.drop:
                record.status = 0
                handler.close_connection = True
                handler.connection.shutdown(2)
                return
            record.status = fault.status
            send_reply(handler, fault.status, fault.body, fault.content_type)
            record.answered = time.perf_counter()
            return

        denial = self._check(handler, parts.path, parts.query, body, params, auth, key_id)
        if denial is None and action == "AssumeRoleWithSAML":
            from stsdash_demo.samlcheck import check_saml  # AWS's pair and expiry checks

            denial, body = check_saml(body)
        if denial is not None:
            record.answered_by = "proxy"
            record.status = denial[0]
            send_reply(handler, denial[0], denial[1])
            record.answered = time.perf_counter()
            return
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        session = self._sessions.get(key_id or "")
        if session is not None and session.source_key_id in self._keys:
            headers = self._resign(headers, parts.path, parts.query, body, auth, session)
        record.forwarded = time.perf_counter()
        status, reply_headers, reply = self._forward(handler.command, handler.path, headers, body)
        record.status = status
        if status == 200 and action == "GetSessionToken":
            reply = self._remember_session(reply, key_id, bool(params.get("TokenCode")), session)
        if status == 200 and action in self.expire_in:
            soon = datetime.now(UTC) + timedelta(seconds=self.expire_in[action])
            reply = _EXPIRATION.sub(f"<Expiration>{soon.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z</Expiration>",
                                    reply.decode()).encode()
        send_reply(handler, status, reply, reply_headers.get("content-type", "text/xml"))
        record.answered = time.perf_counter()

    def _check(
        self,
        handler: BaseHTTPRequestHandler,
        path: str,
        query: str,
        body: bytes,
        params: dict[str, str],
        auth: dict[str, str],
        key_id: str | None,
    ) -> tuple[int, bytes] | None:
        """STS behaviour moto lacks; returns (status, ErrorResponse) to deny, or None to forward."""
        amz_date = handler.headers.get("X-Amz-Date", "")
        if auth and self.check_clock_skew and amz_date:
            try:
                sent = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            except ValueError:
                sent = None
            now = datetime.now(UTC)
            if sent is not None and abs(now - sent) > timedelta(minutes=15):
                fmt = "%Y%m%dT%H%M%SZ"
                edge = now - timedelta(minutes=15)
                return 403, error_body(
                    "SignatureDoesNotMatch",
                    f"Signature expired: {amz_date} is now earlier than {edge.strftime(fmt)} "
                    f"({now.strftime(fmt)} - 15 min.)",
                )
        session = self._sessions.get(key_id or "")
        if session is not None:
            if handler.headers.get("X-Amz-Security-Token") != session.token:
                return 403, error_body(
                    "InvalidClientTokenId", "The security token included in the request is invalid."
                )
            signed = auth.get("SignedHeaders", "").split(";")
            expected = sigv4_signature(
                secret=session.secret,
                method=handler.command,
                path=path,
                query=query,
                headers=dict(handler.headers.items()),
                signed_headers=signed,
                body=body,
                amz_date=amz_date,
                scope=auth.get("Credential", "").split("/", 1)[-1],
            )
            if not hmac.compare_digest(expected, auth.get("Signature", "")):
                return 403, error_body(
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. "
                    "Check your AWS Secret Access Key and signing method. Consult the service documentation "
                    "for details.",
                )
            if datetime.now(UTC) >= session.expires_at:
                return 403, error_body(
                    "ExpiredToken", "The security token included in the request is expired"
                )
            if params.get("Action") == "GetSessionToken":
                return 403, error_body("AccessDenied", "Cannot call GetSessionToken with session credentials")
        action = params.get("Action")
        code = params.get("TokenCode")
        serial = params.get("SerialNumber", "")
        if code is not None and action in ("GetSessionToken", "AssumeRole"):
            with self._lock:
                if self.mfa_serials is not None and serial not in self.mfa_serials:
                    return 403, error_body("AccessDenied", MFA_BAD_SERIAL)
                if (serial, code) in self._used_codes or (
                    self.valid_code is not None and not self.valid_code(code)
                ):
                    return 403, error_body("AccessDenied", MFA_INVALID)
                self._used_codes.add((serial, code))
        if action == "AssumeRole" and params.get("RoleArn") in self._mfa_roles:
            has_mfa = code is not None or (session is not None and session.mfa)
            if not has_mfa:
                caller = f"arn:aws:iam::{params.get('RoleArn', '::::').split(':')[4]}:user/caller"
                return 403, error_body(
                    "AccessDenied",
                    f"User: {caller} is not authorized to perform: sts:AssumeRole "
                    f"on resource: {params['RoleArn']}",
                )
        return None

    def _resign(
        self,
        headers: dict[str, str],
        path: str,
        query: str,
        body: bytes,
        auth: dict[str, str],
        session: _Session,
    ) -> dict[str, str]:
        source = session.source_key_id or ""
        secret = self._keys[source]
        out = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "x-amz-security-token")}
        amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = {k: v for k, v in out.items() if k.lower() != "x-amz-date"}
        out["X-Amz-Date"] = amz_date
        _, region, service, terminator = auth.get("Credential", "").split("/", 1)[-1].split("/")
        scope = f"{amz_date[:8]}/{region}/{service}/{terminator}"
        present = {k.lower() for k in out}
        signed: list[str] = sorted(h for h in ("content-type", "host", "x-amz-date") if h in present)
        signature = sigv4_signature(
            secret=secret,
            method="POST",
            path=path,
            query=query,
            headers=out,
            signed_headers=signed,
            body=body,
            amz_date=amz_date,
            scope=scope,
        )
        out["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={source}/{scope}, "
            f"SignedHeaders={';'.join(signed)}, Signature={signature}"
        )
        return out

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for key, value in headers.items():
                if key.lower() != "content-length":
                    conn.putheader(key, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        except OSError as exc:
            return (
                502,
                {},
                error_body(
                    "ServiceUnavailable",
                    f"stsproxy: upstream unreachable ({exc.__class__.__name__})",
                    type_="Receiver",
                ),
            )
        finally:
            conn.close()

    def _remember_session(self, reply: bytes, key_id: str | None, mfa: bool, via: _Session | None) -> bytes:
        """Record a GetSessionToken answer, giving it a unique ASIA key pair (moto reuses one fixed pair)."""
        from stsdash.providers import stsxml

        try:
            creds = stsxml.credentials_from_result(
                stsxml.parse_result(reply, "GetSessionToken"), "GetSessionToken"
            )
        except Exception:  # an unreadable answer is relayed as it is and not remembered
            return reply
        new_key = "ASIAFAKE" + secrets.token_hex(6).upper()
        new_secret = "FAKE" + secrets.token_urlsafe(27)[:36]
        reply = reply.replace(f">{creds.access_key_id}<".encode(), f">{new_key}<".encode(), 1).replace(
            f">{creds.secret_access_key}<".encode(), f">{new_secret}<".encode(), 1
        )
        with self._lock:
            self._sessions[new_key] = _Session(
                secret=new_secret,
                token=creds.session_token or "",
                source_key_id=via.source_key_id if via else key_id,
                expires_at=creds.expiration or datetime.now(UTC) + timedelta(hours=12),
                mfa=mfa,
            )
        return reply
