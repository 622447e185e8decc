"""A local IAM Identity Center: SSO-OIDC and the SSO portal on 127.0.0.1, speaking the documented wire format.

The demo and the tests need an SSO endpoint that behaves like the real one (device codes, PKCE, refresh,
revocation, pagination, 429s) without an AWS account. botocore's own `sso` and `sso-oidc` clients are run
against it in the tests, so its wire format cannot drift from what real clients expect.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from stsdash_demo.ssowire import PortalBucket, SsoRequestHandler, oidc_error, portal_error

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

@dataclass
class Account:
    account_id: str
    name: str
    email: str
    roles: list[str]


@dataclass
class _Client:
    client_id: str
    client_secret: str
    expires_at: float
    scopes: list[str]
    grant_types: list[str]
    redirect_uris: list[str]


@dataclass
class _Device:
    device_code: str
    user_code: str
    client_id: str
    expires_at: float
    state: str = "pending"  # pending | approved | denied
    last_poll: float = 0.0


@dataclass
class _AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    challenge: str
    expires_at: float
    used: bool = False


@dataclass
class _Token:
    access_token: str
    expires_at: float
    client_id: str
    revoked: bool = False


@dataclass
class SsoServerConfig:
    """What the fake identity center holds and how strict it is."""

    accounts: list[Account] = field(default_factory=list)
    access_token_ttl: int = 8 * 3600
    registration_ttl: int = 90 * 86400
    device_code_ttl: int = 600
    device_interval: int = 1
    role_credentials_ttl: int = 3600
    issue_refresh_tokens: bool = True
    max_page_size: int = 100
    rate_limit: float | None = None  # portal requests per second; above it: 429
    rate_burst: int | None = None  # bucket size; defaults to the rate
    auto_approve: bool = False  # approve device codes and /authorize without a browser step
    deny_authorize: bool = False  # the "user" refuses at /authorize
    enforce_interval: bool = True  # polling faster than `interval` gets slow_down
    sts_endpoint: str | None = None  # mint role credentials with AssumeRole at this (moto) endpoint


def make_accounts(count: int, roles: int = 3, *, first_id: int = 100000000000) -> list[Account]:
    """`count` accounts with predictable ids, names and `roles` role names each."""
    role_names = ["AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess", "Billing", "SecurityAudit"]
    names = [role_names[i] if i < len(role_names) else f"Role{i}" for i in range(roles)]
    return [
        Account(
            account_id=str(first_id + i),
            name=f"acct-{i:04d}",
            email=f"acct-{i:04d}@example.com",
            roles=list(names),
        )
        for i in range(count)
    ]


class SsoServer:
    """The server and its state. Start with `start()`; `url` is the base for both OIDC and portal."""

    def __init__(
        self, config: SsoServerConfig | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config or SsoServerConfig(accounts=make_accounts(3, 2))
        self.clock = clock
        self.lock = threading.RLock()
        self.counts: Counter[str] = Counter()
        self.clients: dict[str, _Client] = {}
        self.devices: dict[str, _Device] = {}
        self.auth_codes: dict[str, _AuthCode] = {}
        self.tokens: dict[str, _Token] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> client id
        self.accounts = {a.account_id: a for a in self.config.accounts}
        self.portal_bucket: PortalBucket | None = None
        self.set_rate_limit(self.config.rate_limit, self.config.rate_burst)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> SsoServer:
        server = self

        class Handler(SsoRequestHandler):
            sso = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="ssoserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SsoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def start_url(self) -> str:
        """A start URL for config files; the server accepts any, this one just looks real."""
        return "https://d-fake000000.awsapps.com/start"

    # --- controls for tests and the demo ------------------------------------------------------------

    def set_rate_limit(self, rate: float | None, burst: int | None = None) -> None:
        self.portal_bucket = None if rate is None else PortalBucket(rate, burst or max(1, int(rate)))

    def approve(self, user_code: str | None = None) -> int:
        """Approve pending device codes (one, or all when `user_code` is None). Returns how many."""
        return self._decide(user_code, "approved")

    def deny(self, user_code: str | None = None) -> int:
        return self._decide(user_code, "denied")

    def pending_user_codes(self) -> list[str]:
        with self.lock:
            return [d.user_code for d in self.devices.values() if d.state == "pending"]

    def revoke_all(self) -> None:
        """Invalidate every access and refresh token (an admin ending all sessions)."""
        with self.lock:
            for token in self.tokens.values():
                token.revoked = True
            self.refresh_tokens.clear()

    def expire_registrations(self) -> None:
        with self.lock:
            for client in self.clients.values():
                client.expires_at = self.clock() - 1

    @property
    def logins(self) -> int:
        """Tokens issued by a login (device code or authorization code), not by refresh."""
        return self.counts["login"]

    def _decide(self, user_code: str | None, state: str) -> int:
        with self.lock:
            hits = [
                d
                for d in self.devices.values()
                if d.state == "pending" and (user_code is None or d.user_code == user_code)
            ]
            for device in hits:
                device.state = state
            return len(hits)

    # --- OIDC -------------------------------------------------------------------------------------

    def register_client(self, body: dict) -> tuple[int, dict]:
        if body.get("clientType") != "public" or not body.get("clientName"):
            return oidc_error("invalid_request", "clientName and clientType 'public' are required")
        grant_types = list(body.get("grantTypes") or [])
        redirect_uris = list(body.get("redirectUris") or [])
        if "authorization_code" in grant_types:
            if not redirect_uris:
                return oidc_error("invalid_redirect_uri", "authorization_code needs redirectUris")
            for uri in redirect_uris:
                parsed = urllib.parse.urlsplit(uri)
                if parsed.hostname not in ("127.0.0.1", "localhost") or parsed.port is not None:
                    return oidc_error(
                        "invalid_redirect_uri", "redirect URIs must be loopback without a port"
                    )
        now = self.clock()
        client = _Client(
            client_id="client-" + secrets.token_hex(8),
            client_secret="secret-" + secrets.token_urlsafe(24),
            expires_at=int(now + self.config.registration_ttl),
            scopes=list(body.get("scopes") or []),
            grant_types=grant_types,
            redirect_uris=redirect_uris,
        )
        with self.lock:
            self.clients[client.client_id] = client
        return 200, {
            "clientId": client.client_id,
            "clientSecret": client.client_secret,
            "clientIdIssuedAt": int(now),
            "clientSecretExpiresAt": int(client.expires_at),
        }

    def _client(self, body: dict) -> _Client | None:
        client = self.clients.get(str(body.get("clientId")))
        if client is None or client.client_secret != body.get("clientSecret"):
            return None
        if client.expires_at <= self.clock():
            return None
        return client

    def start_device_authorization(self, body: dict) -> tuple[int, dict]:
        with self.lock:
            client = self._client(body)
            if client is None:
                return oidc_error("invalid_client", "Client registration is invalid or expired")
            if not body.get("startUrl"):
                return oidc_error("invalid_request", "startUrl is required")
            alphabet = string.ascii_uppercase.replace("O", "").replace("I", "")
            user_code = (
                "".join(secrets.choice(alphabet) for _ in range(4))
                + "-"
                + "".join(secrets.choice(alphabet) for _ in range(4))
            )
            device = _Device(
                device_code="dev-" + secrets.token_urlsafe(24),
                user_code=user_code,
                client_id=client.client_id,
                expires_at=self.clock() + self.config.device_code_ttl,
                state="approved" if self.config.auto_approve else "pending",
            )
            self.devices[device.device_code] = device
        return 200, {
            "deviceCode": device.device_code,
            "userCode": device.user_code,
            "verificationUri": f"{self.url}/device",
            "verificationUriComplete": f"{self.url}/device?user_code={device.user_code}",
            "expiresIn": self.config.device_code_ttl,
            "interval": self.config.device_interval,
        }

    def create_token(self, body: dict) -> tuple[int, dict]:
        grant = body.get("grantType")
        with self.lock:
            client = self._client(body)
            if client is None:
                return oidc_error("invalid_client", "Client registration is invalid or expired")
            if grant == DEVICE_GRANT:
                return self._token_device(client, body)
            if grant == "refresh_token":
                return self._token_refresh(client, body)
            if grant == "authorization_code":
                return self._token_code(client, body)
            return oidc_error("unsupported_grant_type", f"Unsupported grant type {grant!r}")

    def _token_device(self, client: _Client, body: dict) -> tuple[int, dict]:
        device = self.devices.get(str(body.get("deviceCode")))
        if device is None or device.client_id != client.client_id:
            return oidc_error("invalid_grant", "Unknown device code")
        now = self.clock()
        if device.expires_at <= now:
            return oidc_error("expired_token", "Device code expired")
        too_fast = now - device.last_poll < self.config.device_interval * 0.8
        device.last_poll = now
        if device.state == "denied":
            return oidc_error("access_denied", "The user denied the request")
        if device.state == "pending":
            if self.config.enforce_interval and too_fast:
                self.counts["slow_down"] += 1
                return oidc_error("slow_down", "Client is polling too quickly")
            return oidc_error("authorization_pending", "Authorization is pending")
        del self.devices[device.device_code]
        self.counts["login"] += 1
        return 200, self._issue(client)

    def _token_refresh(self, client: _Client, body: dict) -> tuple[int, dict]:
        refresh = str(body.get("refreshToken"))
        if self.refresh_tokens.get(refresh) != client.client_id:
            self.counts["refresh_failed"] += 1
            return oidc_error("invalid_grant", "Refresh token is invalid or expired")
        del self.refresh_tokens[refresh]  # rotation: a refresh token works once
        self.counts["refresh"] += 1
        return 200, self._issue(client)

    def _token_code(self, client: _Client, body: dict) -> tuple[int, dict]:
        if "authorization_code" not in client.grant_types:
            return oidc_error("unauthorized_client", "Client is not registered for authorization_code")
        code = self.auth_codes.get(str(body.get("code")))
        if code is None or code.used or code.client_id != client.client_id:
            return oidc_error("invalid_grant", "Authorization code is invalid or used")
        if code.expires_at <= self.clock():
            return oidc_error("expired_token", "Authorization code expired")
        if body.get("redirectUri") != code.redirect_uri:
            return oidc_error("invalid_grant", "redirectUri does not match the authorization request")
        verifier = str(body.get("codeVerifier") or "")
        if _s256(verifier) != code.challenge:
            return oidc_error("invalid_grant", "PKCE verification failed")
        code.used = True
        self.counts["login"] += 1
        return 200, self._issue(client)

    def _issue(self, client: _Client) -> dict:
        access = "aoa" + secrets.token_urlsafe(32)
        self.tokens[access] = _Token(access, self.clock() + self.config.access_token_ttl, client.client_id)
        response = {"accessToken": access, "tokenType": "Bearer", "expiresIn": self.config.access_token_ttl}
        if self.config.issue_refresh_tokens:
            refresh = "aor" + secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = client.client_id
            response["refreshToken"] = refresh
        return response

    def authorize(self, query: dict[str, str]) -> tuple[int, dict, str | None]:
        """The browser step of PKCE. Returns (status, error body, redirect location)."""
        with self.lock:
            client = self.clients.get(query.get("client_id", ""))
            redirect = query.get("redirect_uri", "")
            if client is None:
                return 400, {"error": "invalid_client"}, None
            parsed = urllib.parse.urlsplit(redirect)
            registered = {
                (urllib.parse.urlsplit(u).hostname, urllib.parse.urlsplit(u).path)
                for u in client.redirect_uris
            }
            if (parsed.hostname, parsed.path) not in registered or not parsed.port:
                return 400, {"error": "invalid_redirect_uri"}, None
            if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
                return 400, {"error": "invalid_request"}, None
            if not query.get("code_challenge") or not query.get("state") or not query.get("scopes"):
                return 400, {"error": "invalid_request"}, None
            self.counts["authorize"] += 1
            state = query["state"]
            if self.config.deny_authorize:
                params = {"error": "access_denied", "state": state}
            else:
                code = _AuthCode(
                    code="code-" + secrets.token_urlsafe(24),
                    client_id=client.client_id,
                    redirect_uri=redirect,
                    challenge=query["code_challenge"],
                    expires_at=self.clock() + 300,
                )
                self.auth_codes[code.code] = code
                params = {"code": code.code, "state": state}
        return 302, {}, f"{redirect}?{urllib.parse.urlencode(params)}"

    # --- portal -----------------------------------------------------------------------------------

    def bearer(self, token: str | None) -> _Token | None:
        found = self.tokens.get(token or "")
        if found is None or found.revoked or found.expires_at <= self.clock():
            return None
        return found

    def get_role_credentials(self, query: dict[str, str]) -> tuple[int, dict]:
        account = self.accounts.get(query.get("account_id", ""))
        role = query.get("role_name", "")
        if account is None or role not in account.roles:
            return portal_error("ResourceNotFoundException", "No access", 404)
        expires = int(self.clock() + self.config.role_credentials_ttl)
        creds = self._mint(account.account_id, role) if self.config.sts_endpoint else None
        if creds is None:
            suffix = secrets.token_hex(6).upper()
            creds = {
                "accessKeyId": "ASIAFAKE" + suffix,
                "secretAccessKey": "FAKE" + secrets.token_urlsafe(27),
                "sessionToken": "FAKETESTTOKEN" + secrets.token_urlsafe(60),
                "expiration": expires * 1000,
            }
        return 200, {"roleCredentials": creds}

    def _mint(self, account_id: str, role: str) -> dict:
        """Real (moto) credentials via an AssumeRole call, so they work against the moto STS endpoint."""
        import requests  # only the demo path needs it

        body = urllib.parse.urlencode(
            {
                "Action": "AssumeRole",
                "Version": "2011-06-15",
                "RoleArn": f"arn:aws:iam::{account_id}:role/{role}",
                "RoleSessionName": "sso-demo",
                "DurationSeconds": str(self.config.role_credentials_ttl),
            }
        )
        date = time.strftime("%Y%m%d", time.gmtime())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            # moto without auth checks reads only the key id from this header.
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential=AKIAFAKESSOSERVER000/{date}/us-east-1/sts/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        }
        response = requests.post(self.config.sts_endpoint or "", data=body, headers=headers, timeout=10)
        response.raise_for_status()
        root = ET.fromstring(response.content)  # trusted local moto response
        ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
        node = root.find(".//s:Credentials", ns)
        if node is None:
            raise RuntimeError("moto AssumeRole returned no credentials")

        def text(tag: str) -> str:
            return node.findtext(f"s:{tag}", default="", namespaces=ns)

        from stsdash.timeutil import parse_timestamp

        expiration = parse_timestamp(text("Expiration"))[0]
        return {
            "accessKeyId": text("AccessKeyId"),
            "secretAccessKey": text("SecretAccessKey"),
            "sessionToken": text("SessionToken"),
            "expiration": int(expiration.timestamp() * 1000),
        }

    def list_accounts(self, query: dict[str, str]) -> tuple[int, dict]:
        items = [
            {"accountId": a.account_id, "accountName": a.name, "emailAddress": a.email}
            for a in self.config.accounts
        ]
        return self._page(items, query, "accountList")

    def list_account_roles(self, query: dict[str, str]) -> tuple[int, dict]:
        account = self.accounts.get(query.get("account_id", ""))
        if account is None:
            return portal_error("ResourceNotFoundException", "Account not found", 404)
        items = [{"roleName": r, "accountId": account.account_id} for r in account.roles]
        return self._page(items, query, "roleList")

    def _page(self, items: list[dict], query: dict[str, str], key: str) -> tuple[int, dict]:
        try:
            size = int(query.get("max_result", self.config.max_page_size))
            start = int(query.get("next_token") or 0)
        except ValueError:
            return portal_error("InvalidRequestException", "Bad max_result or next_token", 400)
        if not 1 <= size <= 100 or start < 0:
            return portal_error("InvalidRequestException", "max_result must be 1-100", 400)
        size = min(size, self.config.max_page_size)
        page = items[start : start + size]
        body: dict = {key: page}
        body["nextToken"] = str(start + size) if start + size < len(items) else None
        return 200, body


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
