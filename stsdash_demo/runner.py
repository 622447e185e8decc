"""`stsdash demo`: the real dashboard, unchanged, against local emulators in a throwaway home.

Everything happens on 127.0.0.1: moto's STS server (auth off, so any six-digit MFA code passes and
MFA-session keys work) and the local SSO server. HOME, the AWS files, stsdash's settings and the keyring
all point into a temporary directory that is removed on exit; the user's own ~/.aws is never touched.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from keyring.backend import KeyringBackend

from stsdash.errors import UsageError
from stsdash_demo.home import SCRUB_PREFIXES, make_aws_home
from stsdash_demo.moto import MotoProcess

if TYPE_CHECKING:
    from stsdash_demo.ssoserver import SsoServer
    from stsdash_demo.stsproxy import StsProxy

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

    priority = 1  # only ever chosen explicitly (PYTHON_KEYRING_BACKEND)
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

    @classmethod
    def stored_values(cls) -> list[str]:
        """Every secret the demo keyring holds (tests check none reaches the screen)."""
        with cls._lock:
            return list(cls._store.values())

    @classmethod
    def clear(cls) -> None:
        with cls._lock:
            cls._store.clear()


@dataclass
class DemoEnvironment:
    """A running demo: servers, temp home, and the environment the app must see."""

    root: Path
    env: dict[str, str]
    sts_url: str
    sso_url: str
    sso_server: SsoServer
    moto: MotoProcess
    proxy: StsProxy | None = None

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
    """The environment the app must see: the throwaway home, the emulators' endpoints, the demo keyring."""
    env = make_aws_home(root, keyring_backend=f"{__name__}.DemoKeyring").env
    env.update({
        "AWS_ENDPOINT_URL_STS": sts_url,
        "AWS_ENDPOINT_URL_SSO": sso_url,
        "AWS_ENDPOINT_URL_SSO_OIDC": sso_url,
    })
    return env


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
                     root: Path | None = None) -> Iterator[DemoEnvironment]:
    """Start the emulators and write the throwaway home; stop and remove them on exit.

    This process's environment is left alone: `run_demo` hands `DemoEnvironment.env` to the dashboard's
    own process, and in-process callers (tests, the screenshot script) apply it with `applied_env`.
    """
    if importlib.util.find_spec("moto") is None:
        raise UsageError("the demo needs moto's server", hint="pip install 'stsdash[demo]'")
    from stsdash_demo.ssoserver import Account, SsoServer, SsoServerConfig

    owned_root = root is None
    root = Path(tempfile.mkdtemp(prefix="stsdash-demo-")) if root is None else root
    emulator = MotoProcess().start()
    proxy = _start_proxy(emulator.url)
    sts_url = proxy.url
    accounts = [Account(account_id=a, name=n, email=f"{n}@example.com", roles=list(r))
                for a, n, r in SSO_ACCOUNTS]
    sso = SsoServer(SsoServerConfig(accounts=accounts, sts_endpoint=emulator.url)).start()
    env = demo_env(root, sts_url=sts_url, sso_url=sso.url)
    demo = DemoEnvironment(root=root, env=env, sts_url=sts_url, sso_url=sso.url, sso_server=sso,
                           moto=emulator, proxy=proxy)
    approver_stop = threading.Event()
    try:
        write_files(root, env, start_url=sso.start_url, now=datetime.now(UTC))
        if sso_login:
            _initial_sso_login(sso, env)
        if approve_after is not None:
            threading.Thread(target=_approver, args=(sso, approve_after, approver_stop),
                             name="demo-approver", daemon=True).start()
        yield demo
    finally:
        approver_stop.set()
        sso.stop()
        with contextlib.suppress(Exception):
            proxy.stop()
        with contextlib.suppress(Exception):
            emulator.stop()
        DemoKeyring.clear()
        if owned_root:
            shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def applied_env(env: dict[str, str]) -> Iterator[None]:
    """Point this process at the demo (for in-process apps: tests, screenshots); restore on exit.

    Variables of the user's own AWS setup are hidden for the duration, and keyring is made to choose
    its backend again from PYTHON_KEYRING_BACKEND, then given back the one it had.
    """
    import keyring
    import keyring.core

    saved = {k: os.environ.get(k) for k in [*os.environ, *env] if k.startswith(SCRUB_PREFIXES) or k in env}
    for key in saved:
        os.environ.pop(key, None)
    os.environ.update(env)
    previous = keyring.get_keyring()
    keyring.core.init_backend()
    try:
        yield
    finally:
        keyring.set_keyring(previous)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _start_proxy(upstream: str) -> StsProxy:
    """The STS proxy in front of moto: MFA checked the way STS does it (six digits, single use, the
    demo device only, MFA required by the roles behind alice), which moto alone does not do."""
    from stsdash_demo.stsproxy import StsProxy

    proxy = StsProxy(upstream, valid_code=lambda code: len(code) == 6 and code.isdigit(),
                     mfa_serials={MFA_SERIAL})
    for role in MFA_ROLES:
        proxy.require_mfa(role)
    return proxy.start()


def _initial_sso_login(sso: SsoServer, env: dict[str, str]) -> None:
    """A valid cached token, so SSO profiles refresh at once; obtained through the real login flow."""
    from stsdash.awsfiles.paths import aws_paths
    from stsdash.profiles import load_profiles
    from stsdash.settings import load_settings
    from stsdash.sso.manager import SsoManager

    paths = aws_paths(env)
    settings = load_settings(Path(env["STSDASH_CONFIG"]))
    session = load_profiles(paths, settings).sso_sessions[SSO_SESSION]
    sso.config.auto_approve = True
    try:
        manager = SsoManager(paths=paths, settings=settings, env=env)
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


def run_demo(*, keep: bool = False, print_env: bool = False, prompt: bool = False) -> int:
    """Entry point of `stsdash demo`: the emulators here, the dashboard in its own process."""
    root = Path(tempfile.mkdtemp(prefix="stsdash-demo-")) if keep else None
    with demo_environment(root=root) as demo:
        if print_env:
            for key, value in sorted(demo.env.items()):
                print(f"export {key}={shlex.quote(value)}")
            print("# demo running; press Ctrl+C to stop", file=sys.stderr)
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
            return 0
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB_PREFIXES)}
        env.update(demo.env)
        # The dashboard reads Ctrl+C as a key; this process only waits for it to finish.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            from stsdash_demo.callers import demo_callers

            with demo_callers(env, sts_url=demo.moto.url, prompt=prompt):
                code = subprocess.call([sys.executable, "-m", "stsdash", "tui", "--no-browser"], env=env)
        finally:
            signal.signal(signal.SIGINT, previous)
    if keep:
        print(f"stsdash demo: files kept in {root}")
    return code


def build_app(*, open_browser: bool = False, **kwargs):
    """The app exactly as `stsdash tui` builds it, for the environment this process now has."""
    from stsdash.commands.tui import build_app as tui_app

    return tui_app(open_browser=open_browser, **kwargs)
