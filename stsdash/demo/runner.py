"""`stsdash demo`: the real dashboard, unchanged, against local emulators in a throwaway home.

Everything happens on 127.0.0.1: moto's STS server (auth off, so any six-digit MFA code passes and
MFA-session keys work) and the local SSO server. HOME, the AWS files, stsdash's settings and the keyring
all point into a temporary directory that is removed on exit; the user's own ~/.aws is never touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from keyring.backend import KeyringBackend

from stsdash.errors import UsageError

MFA_SERIAL = "arn:aws:iam::111111111111:mfa/alice"
SSO_SESSION = "acme"
DEMO_USER_KEY = "AKIAEXAMPLEDEMOALICE"
DEMO_USER_SECRET = "demoEXAMPLEsecretKEYnotREALxxxxxxxxxxxxx"
SSO_ACCOUNTS = (  # (account id, name, roles)
    ("100000000001", "acme-dev", ["AdministratorAccess", "ReadOnlyAccess"]),
    ("100000000002", "acme-staging", ["PowerUserAccess", "ReadOnlyAccess"]),
    ("100000000003", "acme-prod", ["ReadOnlyAccess", "SecurityAudit"]),
    ("100000000004", "acme-security", ["SecurityAudit"]),
)
MFA_ROLES = tuple(f"arn:aws:iam::{account}:role/{name}" for account, name in (
    ("222222222222", "Admin"), ("333333333333", "Deploy"), ("444444444444", "ReadOnly"),
    ("555555555555", "BillingViewer"), ("777777777777", "CI"),
))
APPROVE_AFTER = 3.0  # seconds the demo "user" takes to approve an SSO login in the browser

CONFIG = """\
# stsdash demo: a realistic ~/.aws/config. Edit it while the dashboard runs; it reloads.
[default]
region = eu-west-1

# An IAM user with a virtual MFA device; its long-term keys are in the credentials file.
[profile alice]
mfa_serial = {mfa}
region = eu-west-1

# Roles behind alice that require MFA: one code unlocks all of them via an MFA session.
[profile dev-admin]
role_arn = arn:aws:iam::222222222222:role/Admin
source_profile = alice
mfa_serial = {mfa}
region = eu-west-1

[profile staging-deploy]
role_arn = arn:aws:iam::333333333333:role/Deploy
source_profile = alice
mfa_serial = {mfa}
region = eu-central-1

[profile prod-readonly]
role_arn = arn:aws:iam::444444444444:role/ReadOnly
source_profile = alice
mfa_serial = {mfa}
region = us-east-1

[profile billing]
role_arn = arn:aws:iam::555555555555:role/BillingViewer
source_profile = alice
mfa_serial = {mfa}
region = us-east-1

# A role chain: prod-readonly, then an audit role in another account.
[profile prod-audit]
role_arn = arn:aws:iam::666666666666:role/Auditor
source_profile = prod-readonly
region = us-east-1

# Refreshed once, long ago: its keys have expired.
[profile legacy-ci]
role_arn = arn:aws:iam::777777777777:role/CI
source_profile = alice
mfa_serial = {mfa}
region = us-west-2

# Broken on purpose: its source profile does not exist.
[profile ops-broken]
role_arn = arn:aws:iam::888888888888:role/Ops
source_profile = ops-base
region = eu-west-1

[sso-session {session}]
sso_start_url = {start_url}
sso_region = us-east-1
sso_registration_scopes = sso:account:access
{sso_profiles}"""

SSO_PROFILE = """
[profile {name}]
sso_session = {session}
sso_account_id = {account}
sso_role_name = {role}
region = eu-west-1
"""


class DemoKeyring(KeyringBackend):
    """An in-memory keyring: the demo's MFA sessions vanish with the process, never reach the OS keyring."""

    priority = 1  # type: ignore[assignment]  # only ever chosen explicitly (PYTHON_KEYRING_BACKEND)
    _store: ClassVar[dict[tuple[str, str], str]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            self._store.pop((service, username), None)


@dataclass
class DemoEnvironment:
    """A running demo: servers, temp home, and the environment the app must see."""

    root: Path
    env: dict[str, str]
    sts_url: str
    sso_url: str
    sso_server: object
    moto: object
    proxy: object | None = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)
    _approver_stop: threading.Event = field(default_factory=threading.Event)

    @property
    def config(self) -> Path:
        return Path(self.env["AWS_CONFIG_FILE"])

    @property
    def credentials(self) -> Path:
        return Path(self.env["AWS_SHARED_CREDENTIALS_FILE"])

    @property
    def settings(self) -> Path:
        return Path(self.env["STSDASH_CONFIG"])


def _sso_profiles() -> list[tuple[str, str, str]]:
    """(profile name, account id, role) for the SSO profiles in the demo config."""
    out = [(name, account, roles[0]) for account, name, roles in SSO_ACCOUNTS]
    out.append(("acme-prod-audit", "100000000003", "SecurityAudit"))
    return out


def demo_env(root: Path, *, sts_url: str, sso_url: str) -> dict[str, str]:
    home = root / "home"
    aws = home / ".aws"
    return {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "0",
        "AWS_ENDPOINT_URL_STS": sts_url,
        "AWS_ENDPOINT_URL_SSO": sso_url,
        "AWS_ENDPOINT_URL_SSO_OIDC": sso_url,
        "STSDASH_CONFIG": str(root / "stsdash" / "config.toml"),
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "XDG_DATA_HOME": str(root / "xdg-data"),
        "XDG_CACHE_HOME": str(root / "xdg-cache"),
        "PYTHON_KEYRING_BACKEND": f"{__name__}.DemoKeyring",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def write_files(root: Path, env: dict[str, str], *, start_url: str, now: datetime) -> None:
    """The demo's AWS files: profiles, alice's keys, one fresh role, one expired, one expiring soon."""
    aws = Path(env["AWS_CONFIG_FILE"]).parent
    (aws / "sso" / "cache").mkdir(parents=True, exist_ok=True)
    (aws / "cli" / "cache").mkdir(parents=True, exist_ok=True)
    Path(env["STSDASH_CONFIG"]).parent.mkdir(parents=True, exist_ok=True)
    Path(env["STSDASH_CONFIG"]).write_text('refresh_ahead = "15m"\n')
    sso_profiles = "".join(
        SSO_PROFILE.format(name=name, session=SSO_SESSION, account=account, role=role)
        for name, account, role in _sso_profiles()
    )
    Path(env["AWS_CONFIG_FILE"]).write_text(
        CONFIG.format(mfa=MFA_SERIAL, session=SSO_SESSION, start_url=start_url, sso_profiles=sso_profiles)
    )

    def session(name: str, key: str, expires: datetime) -> str:
        return (
            f"[{name}]\n"
            f"aws_access_key_id = ASIAEXAMPLE{key}\n"
            f"aws_secret_access_key = demoEXAMPLEsessionSECRET{key}xxxxxxxxxxxx\n"
            f"aws_session_token = demoEXAMPLEsessionTOKEN{key}\n"
            f"aws_credential_expiration = {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
            "x_stsdash_managed = true\n"
        )

    credentials = Path(env["AWS_SHARED_CREDENTIALS_FILE"])
    credentials.write_text(
        "# Long-term keys of the demo IAM user (fake: the STS emulator accepts anything).\n"
        "[alice]\n"
        f"aws_access_key_id = {DEMO_USER_KEY}\n"
        f"aws_secret_access_key = {DEMO_USER_SECRET}\n\n"
        + session("staging-deploy-session", "STAGING0", now + timedelta(minutes=11, seconds=42)) + "\n"
        + session("billing-session", "BILLING00", now + timedelta(hours=7, minutes=58)) + "\n"
        + session("acme-staging-session", "ACMESTG00", now + timedelta(minutes=4, seconds=30)) + "\n"
        + session("legacy-ci-session", "LEGACYCI0", now - timedelta(days=3, hours=2))
    )
    os.chmod(credentials, 0o600)


@contextlib.contextmanager
def demo_environment(*, approve_after: float | None = APPROVE_AFTER, sso_login: bool = True,
                     root: Path | None = None, out_of_process: bool = True) -> Iterator[DemoEnvironment]:
    """Start the emulators, write the temp home, point this process's environment at it; undo on exit.

    moto runs in a child process by default: in-process, its request handling would compete with the
    dashboard's event loop for the GIL, which a real STS endpoint never does.
    """
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise UsageError("the demo needs moto's server", hint="pip install 'stsdash[demo]'") from exc
    from stsdash.demo.ssoserver import Account, SsoServer, SsoServerConfig

    owned_root = root is None
    root = Path(tempfile.mkdtemp(prefix="stsdash-demo-")) if root is None else root
    logging.getLogger("werkzeug").disabled = True  # its request log would scribble over the dashboard
    moto = MotoProcess() if out_of_process else _ThreadedMoto(ThreadedMotoServer)
    host, port = moto.start()
    sts_url = f"http://{host}:{port}"
    proxy = _start_proxy(sts_url)
    if proxy is not None:
        sts_url = proxy.url
    accounts = [Account(account_id=a, name=n, email=f"{n}@example.com", roles=list(r))
                for a, n, r in SSO_ACCOUNTS]
    sso = SsoServer(SsoServerConfig(accounts=accounts, sts_endpoint=f"http://{host}:{port}")).start()
    env = demo_env(root, sts_url=sts_url, sso_url=sso.url)
    demo = DemoEnvironment(root=root, env=env, sts_url=sts_url, sso_url=sso.url, sso_server=sso, moto=moto,
                           proxy=proxy)
    for key in [k for k in os.environ if k.startswith(("AWS_", "STSDASH_", "PYTHON_KEYRING"))] + list(env):
        demo._saved_env.setdefault(key, os.environ.get(key))
        os.environ.pop(key, None)
    os.environ.update(env)
    _reset_keyring()
    try:
        write_files(root, env, start_url=sso.start_url, now=datetime.now(UTC))
        if sso_login:
            _initial_sso_login(sso)
        if approve_after is not None:
            threading.Thread(target=_approver, args=(sso, approve_after, demo._approver_stop),
                             name="demo-approver", daemon=True).start()
        yield demo
    finally:
        demo._approver_stop.set()
        for key, value in demo._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _reset_keyring()
        sso.stop()
        if proxy is not None:
            with contextlib.suppress(Exception):
                proxy.stop()
        with contextlib.suppress(Exception):
            moto.stop()
        DemoKeyring._store.clear()
        if owned_root:
            shutil.rmtree(root, ignore_errors=True)


class _ThreadedMoto:
    def __init__(self, factory) -> None:
        self.server = factory(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> tuple[str, int]:
        self.server.start()
        return self.server.get_host_and_port()

    def stop(self) -> None:
        self.server.stop()


class MotoProcess:
    """moto's server (the same ThreadedMotoServer app) in a child process on 127.0.0.1."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> tuple[str, int]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise UsageError("the STS emulator (moto) exited at startup")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return "127.0.0.1", port
            time.sleep(0.05)
        self.stop()
        raise UsageError("the STS emulator (moto) did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start_proxy(upstream: str):
    """The STS proxy in front of moto: MFA checked the way STS does it (six digits, single use, the
    demo device only, MFA required by the roles behind alice), which moto alone does not do."""
    try:
        from stsdash.demo.stsproxy import StsProxy
    except ImportError:
        return None
    proxy = StsProxy(upstream, valid_code=lambda code: len(code) == 6 and code.isdigit(),
                     mfa_serials={MFA_SERIAL})
    for role in MFA_ROLES:
        proxy.require_mfa(role)
    return proxy.start()


def _reset_keyring() -> None:
    """keyring caches its backend per process: make it read PYTHON_KEYRING_BACKEND again."""
    import keyring.core

    keyring.core._keyring_backend = None  # type: ignore[attr-defined]


def _initial_sso_login(sso) -> None:
    """A valid cached token, so SSO profiles refresh at once; obtained through the real login flow."""
    from stsdash.profiles import load_profiles
    from stsdash.sso.manager import SsoManager

    profiles = load_profiles()
    session = profiles.sso_sessions[SSO_SESSION]
    sso.config.auto_approve = True
    try:
        manager = SsoManager()
        manager.login(session, flow="device", on_prompt=lambda _prompt: None, open_browser=False)
    finally:
        sso.config.auto_approve = False


def _approver(sso, delay: float, stop: threading.Event) -> None:
    """Plays the user approving the login in the browser, `delay` seconds after the code appears."""
    seen: dict[str, float] = {}
    while not stop.wait(0.25):
        now = time.monotonic()
        for code in sso.pending_user_codes():
            first = seen.setdefault(code, now)
            if now - first >= delay:
                sso.approve(code)


def run_demo(*, keep: bool = False, print_env: bool = False) -> int:
    """Entry point of `stsdash demo`."""
    root = Path(tempfile.mkdtemp(prefix="stsdash-demo-")) if keep else None
    with demo_environment(root=root) as demo:
        if print_env:
            for key, value in sorted(demo.env.items()):
                print(f"export {key}={value}")
            print("# demo running; press Ctrl+C to stop", file=sys.stderr)
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
            return 0
        app = build_app(open_browser=False)
        app.run()
        code = int(app.return_code or 0)
    if keep:
        print(f"stsdash demo: files kept in {root}")
    return code


def build_app(*, open_browser: bool = False, **kwargs):
    """The app exactly as `stsdash tui` builds it, for the environment this process now has."""
    from stsdash.commands.tui import build_app as tui_app

    return tui_app(open_browser=open_browser, **kwargs)
