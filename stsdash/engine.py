"""RefreshEngine: plans and runs credential refreshes, then writes each result through CredentialsWriter.

Planning turns requested profiles into a small dependency graph of nodes:
  * ``mfa:<serial>``   one MFA session per device: GetSessionToken with the device user's long-term keys
                       and ONE code, kept in the keyring until it expires. Every role behind that user which
                       needs that device is assumed with the session and no TokenCode (users hate a prompt
                       per role; a TOTP code is single-use anyway).
  * ``cred:<profile>`` the credentials of one profile: AssumeRole (any chain depth), web identity, SSO,
                       credential_process. A role that cannot use an MFA session (credential_source, a
                       chain through another role, a source without long-term keys) gets its own prompt,
                       and the MfaRequest says why.
Nodes run on a bounded thread pool (settings.max_concurrency) as soon as their dependencies are done; a
failed node fails only the profiles that depend on it. Writes are group-committed by the calling thread:
everything that finished while the previous write ran goes into one CredentialsWriter transaction (each
write locks, rewrites and fsyncs the whole file, so one write per profile would serialize a concurrent
refresh behind the disk). A refused batch is retried section by section, so one refused target never
costs another profile its result; nothing is written for a profile that failed.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import re
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from stsdash.creds import Credentials, Identity
from stsdash.errors import MfaCodeError, ProviderError, StsdashError, UsageError
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    from stsdash.awsfiles.paths import AwsPaths
    from stsdash.awsfiles.writer import CredentialsWriter
    from stsdash.profiles import Profile, ProfileSet, SsoSession
    from stsdash.providers.base import ProviderResult
    from stsdash.providers.sts import StsClient
    from stsdash.secrets import SecretStore
    from stsdash.settings import Settings

log = logging.getLogger(__name__)

MAX_CODE_ATTEMPTS = 3
CHAINED_ROLE_MAX_SECONDS = 3600  # STS caps role->role hops at one hour
CACHE_MIN_REMAINING = timedelta(minutes=15)  # botocore reuses cached credentials only with > 15 min left
_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]", re.ASCII)
_ROLE_LIKE_KINDS = frozenset({"assume-role", "sso", "web-identity"})


@dataclass
class MfaRequest:
    serial: str  # the device
    profiles: list[str]  # every requested profile this one code unlocks
    reason: str  # e.g. "one code for 4 profiles via an MFA session of alice"
    attempt: int = 1
    last_error: str | None = None  # STS message of the previous wrong/reused code


CodeProvider = Callable[[MfaRequest], "str | None"]  # None cancels that device's profiles


@dataclass
class RefreshResult:
    profile: str
    ok: bool
    target: str | None
    expires_at: datetime | None
    identity: Identity | None
    error: StsdashError | None
    warnings: list[str] = field(default_factory=list)  # e.g. a duration clamped for role chaining


class MfaCodeRequired(StsdashError):
    """A code is needed and nobody can be asked (no TTY, no --code)."""


class RefreshCancelled(StsdashError):
    """The user declined to give an MFA code."""


class SsoCredentialSource(Protocol):
    """What the engine needs from SSO: SsoManager satisfies it."""

    def role_credentials(self, session: SsoSession, account_id: str, role_name: str) -> ProviderResult: ...


# ---------------------------------------------------------------------------------------------- planning


@dataclass
class _Out:
    """A node's output: fresh credentials, who they are, whether they are role credentials (chaining)."""

    creds: Credentials
    identity: Identity | None
    role_like: bool
    warnings: list[str] = field(default_factory=list)
    stored_serial: str | None = None  # an MFA session read back from the keyring (may be revoked)


@dataclass
class _Source:
    """Where a role's source credentials come from: a node, or credentials known at planning time."""

    dep: str | None = None
    creds: Credentials | None = None
    role_like: bool = False


@dataclass
class _Node:
    key: str
    profile: str  # the profile the node acts for (device user for MFA nodes), named in errors
    deps: list[str]
    run: Callable[[_RunContext], _Out]
    mfa_serial: str | None = None  # the node asks for a code on this device
    mfa_reason: str = ""
    mfa_process: str | None = None


@dataclass
class _Device:
    serial: str
    user: str
    keys: Credentials
    mfa_process: str | None
    stored: Credentials | None  # live MFA session from the keyring: no code needed


class _Plan:
    """The graph for one refresh() call. Building it touches only local files and the keyring."""

    def __init__(
        self, engine: RefreshEngine, profiles: ProfileSet, now: datetime, requested: Sequence[str]
    ) -> None:
        self.engine = engine
        self.requested = frozenset(requested)
        self.ps = profiles
        self.now = now
        self.nodes: dict[str, _Node] = {}
        self.devices: dict[str, _Device] = {}
        self.roots: dict[str, str] = {}  # requested profile -> node key
        self.errors: dict[str, StsdashError] = {}  # requested profile -> planning error
        self._visiting: set[str] = set()

    # -- entry ---------------------------------------------------------------------------------------
    def add(self, name: str) -> None:
        try:
            profile = self._profile(name)
            if not profile.refreshable:
                raise UsageError(
                    f"profile {name}: nothing to refresh ({profile.kind} profile)",
                    hint="Roles, SSO, web identity and MFA users with a target section can be refreshed.",
                )
            self.roots[name] = self._node_for(profile)
        except StsdashError as exc:
            self.errors[name] = _named(exc, name)

    def closure(self, key: str) -> set[str]:
        seen: set[str] = set()
        stack = [key]
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            stack.extend(self.nodes[k].deps)
        return seen

    def requests(self) -> list[MfaRequest]:
        """One MfaRequest per node that will ask (not for stored sessions or mfa_process devices)."""
        unlocks: dict[str, list[str]] = {}
        for name, root in self.roots.items():
            for key in self.closure(root):
                if self.nodes[key].mfa_serial and not self._answered_without_asking(key):
                    unlocks.setdefault(key, []).append(name)
        out = []
        for key, names in unlocks.items():
            node = self.nodes[key]
            reason = self.reason(key, names)
            out.append(MfaRequest(serial=node.mfa_serial or "", profiles=names, reason=reason))
        return out

    def reason(self, key: str, names: list[str]) -> str:
        node = self.nodes[key]
        if key.startswith("mfa:"):
            what = f"{len(names)} profile{'s' if len(names) != 1 else ''}"
            return f"one code for {what} via an MFA session of {node.profile} (GetSessionToken)"
        return node.mfa_reason

    def _answered_without_asking(self, key: str) -> bool:
        node = self.nodes[key]
        if node.mfa_process:
            return True
        device = self.devices.get(node.mfa_serial or "") if key.startswith("mfa:") else None
        return device is not None and device.stored is not None

    # -- nodes ---------------------------------------------------------------------------------------
    def _profile(self, name: str) -> Profile:
        profile = self.ps.profiles.get(name)
        if profile is None:
            raise UsageError(f"profile {name}: no such profile in the AWS config or credentials file")
        if profile.problem:
            raise UsageError(f"profile {name}: {profile.problem}")
        return profile

    def _node_for(self, p: Profile) -> str:
        kind = str(p.kind)
        if kind == "mfa-user":
            keys = self.engine._long_term(p)
            if keys is None or not p.mfa_serial:
                raise UsageError(f"profile {p.name}: no long-term keys for an MFA session")
            return self._device(p.mfa_serial, p, keys)
        if kind == "assume-role":
            return self._role(p)
        if kind == "web-identity":
            return self._leaf(p, self._run_web_identity)
        if kind == "sso":
            return self._leaf(p, self._run_sso)
        if kind == "credential-process":
            return self._leaf(p, self._run_process)
        raise UsageError(
            f"profile {p.name}: nothing to refresh ({kind} profile)",
            hint="Only roles, SSO, web identity, credential_process and MFA users can be refreshed.",
        )

    def _leaf(self, p: Profile, runner: Callable[[Profile], _Out]) -> str:
        key = f"cred:{p.name}"
        if key not in self.nodes:
            self.nodes[key] = _Node(key, p.name, [], lambda _ctx, p=p: runner(p))
        return key

    def _device(self, serial: str, user: Profile, keys: Credentials) -> str:
        key = f"mfa:{serial}"
        if serial not in self.devices:
            stored = self.engine._stored_session(serial, self.now)
            mfa_process = user.mfa_process or self._mfa_process_for(serial)
            self.devices[serial] = _Device(serial, user.name, keys, mfa_process, stored)
            self.nodes[key] = _Node(
                key,
                user.name,
                [],
                lambda ctx, serial=serial: self.engine._run_device(ctx, self.devices[serial]),
                mfa_serial=serial,
                mfa_process=mfa_process,
            )
        return key

    def _mfa_process_for(self, serial: str) -> str | None:
        for prof in self.ps.profiles.values():
            if prof.mfa_serial == serial and prof.mfa_process:
                return prof.mfa_process
        return None

    def _role(self, r: Profile) -> str:
        key = f"cred:{r.name}"
        if key in self.nodes:
            return key
        if r.name in self._visiting:
            raise UsageError(f"profile {r.name}: source_profile chain loops back to itself")
        self._visiting.add(r.name)
        try:
            source, own_serial, reason = self._role_source(r)
        finally:
            self._visiting.discard(r.name)
        node = _Node(
            key,
            r.name,
            [source.dep] if source.dep else [],
            lambda ctx, r=r, source=source, own=own_serial: self.engine._run_role(ctx, r, source, own),
            mfa_serial=own_serial,
            mfa_reason=reason,
            mfa_process=r.mfa_process if own_serial else None,
        )
        self.nodes[key] = node
        return key

    def _role_source(self, r: Profile) -> tuple[_Source, str | None, str]:
        """Source of role `r`, plus the device it must prompt for itself (None when a session covers it)."""
        per_role = r.mfa_serial
        if r.credential_source:
            creds = self.engine._credential_source(r)
            why = f"one code for this role: credential_source={r.credential_source} has no IAM user keys"
            return _Source(creds=creds), per_role, why
        if not r.source_profile:
            raise UsageError(f"profile {r.name}: role_arn without source_profile or credential_source")
        u = self._profile(r.source_profile) if r.source_profile != r.name else r
        keys = self.engine._long_term(u)
        if keys is not None:  # an IAM user: the MFA session works when it owns the device
            serial = r.mfa_serial or u.mfa_serial
            owner_ok = not (r.mfa_serial and u.mfa_serial and r.mfa_serial != u.mfa_serial)
            if serial and owner_ok:
                device = self.devices.get(serial)
                if device is None or device.keys.access_key_id == keys.access_key_id:
                    dep = self._device(serial, u, keys)
                    return _Source(dep=dep), None, ""
                why = (
                    f"one code for this role: device {serial} already gets an MFA session for "
                    f"{device.user}, but this role's source is {u.name}"
                )
                return _Source(creds=keys), per_role, why
            if u.mfa_serial:  # the user's own device differs from the role's: session for one, code for other
                dep = self._device(u.mfa_serial, u, keys)
                why = f"one code for this role: {r.mfa_serial} is not {u.name}'s MFA device ({u.mfa_serial})"
                return _Source(dep=dep), per_role, why
            return _Source(creds=keys), None, ""
        kind = str(u.kind)
        static = u.static_credentials
        if static is not None and kind not in ("sso", "web-identity"):  # botocore: keys beat role_arn here
            why = f"one code for this role: source {u.name} holds temporary keys, not an IAM user's keys"
            return _Source(creds=static), per_role, why
        if kind not in ("assume-role", "sso", "web-identity", "credential-process"):
            raise UsageError(
                f"profile {r.name}: source profile {u.name} has no credentials",
                hint=f"Add keys for {u.name}, or import them with `stsdash keys import {u.name}`.",
            )
        role_like = kind in _ROLE_LIKE_KINDS
        why = f"one code for this role: it is assumed through {u.name} (role chaining carries no MFA session)"
        cached = self._cached_source(u)
        if cached is not None:
            return _Source(creds=cached, role_like=role_like), per_role, why
        return _Source(dep=self._node_for(u), role_like=role_like), per_role, why

    def _cached_source(self, u: Profile) -> Credentials | None:
        """Fresh credentials already written for an intermediate profile that was not asked for."""
        if u.name in self.requested or not u.target:
            return None
        return self.engine._cached_target(self.ps, u, self.now)

    # -- leaf runners -------------------------------------------------------------------------------
    def _run_web_identity(self, p: Profile) -> _Out:
        path = Path(os.path.expanduser(p.web_identity_token_file or ""))
        try:
            token = path.read_text().strip()
        except OSError as exc:
            raise StsdashError(
                f"profile {p.name}: cannot read web_identity_token_file {path}: {exc.strerror}"
            ) from None
        client = self.engine._client(p, self.ps)
        duration, warnings = self.engine._duration(p, chained=False)
        result = client.assume_role_with_web_identity(
            role_arn=p.role_arn,
            role_session_name=self.engine._session_name(p),
            web_identity_token=token,
            duration_seconds=duration,
        )
        return _Out(result.credentials, result.identity, True, warnings)

    def _run_sso(self, p: Profile) -> _Out:
        session = self.ps.sso_sessions.get(p.sso_session or p.sso_start_url or "")
        if session is None:
            raise UsageError(f"profile {p.name}: its SSO session is not defined")
        result = self.engine.sso.role_credentials(session, p.sso_account_id or "", p.sso_role_name or "")
        return _Out(result.credentials, result.identity, True)

    def _run_process(self, p: Profile) -> _Out:
        from stsdash.providers.process import run_credential_process

        creds = run_credential_process(p.credential_process or "", profile=p.name)
        return _Out(creds, None, False)


# ---------------------------------------------------------------------------------------------- engine


class RefreshEngine:
    """Refresh planning and execution. Blocking and thread-safe; no UI."""

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        paths: AwsPaths | None = None,
        secrets: SecretStore | None = None,
        env: Mapping[str, str] | None = None,
        sso: SsoCredentialSource | None = None,
    ) -> None:
        from stsdash.awsfiles.paths import aws_paths

        self.env: Mapping[str, str] = dict(os.environ if env is None else env)
        if settings is None:
            from stsdash.settings import load_settings

            settings = load_settings()
        self.settings = settings
        self.paths = paths or aws_paths(self.env)
        if secrets is None:
            from stsdash.secrets import SecretStore

            secrets = SecretStore()
        self.secrets = secrets
        self._sso = sso
        self._prompt_lock = threading.Lock()  # one prompt at a time, whatever the number of threads
        self._write_lock = threading.Lock()
        self._device_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    # -- public --------------------------------------------------------------------------------------
    def load(self) -> ProfileSet:
        from stsdash.profiles import load_profiles

        return load_profiles(self.paths, self.settings)

    @property
    def sso(self) -> SsoCredentialSource:
        with self._locks_lock:
            if self._sso is None:
                from stsdash.sso.manager import SsoManager

                self._sso = SsoManager(paths=self.paths, settings=self.settings, env=self.env)
            return self._sso

    def stale(self, profiles: ProfileSet) -> list[str]:
        """Refreshable profiles that are expired or inside settings.refresh_ahead."""
        from stsdash.profiles import Status

        now, ahead = utcnow(), self.settings.refresh_ahead
        return [
            p.name
            for p in profiles.visible(self.settings.hidden)
            if p.refreshable and p.status(now, ahead) in (Status.EXPIRED, Status.EXPIRING)
        ]

    def mfa_requests(self, names: Sequence[str]) -> list[MfaRequest]:
        """What refresh(names) will ask for: one request per device (or per role that cannot share)."""
        from stsdash.awsfiles.writer import CredentialsWriter

        profiles = self.load()
        writer = CredentialsWriter(self.paths.credentials)
        plan = self._plan(profiles, [n for n in names if self._writable(writer, profiles, n) is None])
        return plan.requests()

    def refresh(
        self,
        names: Sequence[str],
        *,
        code_provider: CodeProvider,
        on_result: Callable[[RefreshResult], None] | None = None,
    ) -> list[RefreshResult]:
        results, _ = self._refresh(names, code_provider, on_result)
        return results

    def whoami(self, name: str) -> Identity:
        """GetCallerIdentity with the credentials botocore would use for `name` right now."""
        profiles = self.load()
        profile = profiles.profiles.get(name)
        if profile is None:
            raise UsageError(f"profile {name}: no such profile")
        creds = self._current(profiles, profile)
        if creds is None:
            raise StsdashError(
                f"profile {name}: no current credentials",
                hint=f"Run `stsdash refresh {name}` first.",
            )
        try:
            return self._client(profile, profiles).get_caller_identity(creds)
        except StsdashError as exc:
            raise _named(exc, name) from None

    def credentials_for(self, name: str, *, code_provider: CodeProvider | None = None) -> Credentials:
        """Cached credentials from the target section (> 15 min left), else freshly refreshed."""
        profiles = self.load()
        profile = profiles.profiles.get(name)
        if profile is None:
            raise UsageError(f"profile {name}: no such profile")
        if profile.problem:
            raise UsageError(f"profile {name}: {profile.problem}")
        if profile.kind == "credential-process" and not profile.static_credentials:
            from stsdash.providers.process import run_credential_process

            return run_credential_process(profile.credential_process or "", profile=name)
        if not profile.refreshable:
            creds = self._current(profiles, profile)
            if creds is None:
                raise StsdashError(f"profile {name}: no credentials to hand out")
            return creds
        cached = self._cached_target(profiles, profile, utcnow())
        if cached is not None:
            return cached
        results, outs = self._refresh([name], code_provider or _no_code_provider, None)
        result = results[0]
        if not result.ok or name not in outs:
            raise result.error or StsdashError(f"profile {name}: refresh failed")
        return outs[name]

    # -- refresh -------------------------------------------------------------------------------------
    def _plan(self, profiles: ProfileSet, names: Sequence[str]) -> _Plan:
        plan = _Plan(self, profiles, utcnow(), names)
        for name in dict.fromkeys(names):
            plan.add(name)
        return plan

    def _refresh(
        self,
        names: Sequence[str],
        code_provider: CodeProvider,
        on_result: Callable[[RefreshResult], None] | None,
    ) -> tuple[list[RefreshResult], dict[str, Credentials]]:
        from stsdash.awsfiles.writer import CredentialsWriter

        profiles = self.load()
        writer = CredentialsWriter(self.paths.credentials)
        names = list(dict.fromkeys(names))
        finished: dict[str, RefreshResult] = {}
        fresh: dict[str, Credentials] = {}

        def finish(result: RefreshResult) -> None:
            finished[result.profile] = result
            if on_result is not None:
                on_result(result)

        # Targets first: a code must never be spent on a profile whose write would be refused.
        writable = []
        for name in names:
            refused = self._writable(writer, profiles, name)
            if refused is not None:
                finish(RefreshResult(name, False, profiles.profiles[name].target, None, None, refused))
            else:
                writable.append(name)

        plan = self._plan(profiles, writable)
        for name, exc in plan.errors.items():
            profile = profiles.profiles.get(name)
            finish(RefreshResult(name, False, profile.target if profile else None, None, None, exc))
        ctx = _RunContext(plan, code_provider)
        by_node: dict[str, list[str]] = {}
        for name, key in plan.roots.items():
            by_node.setdefault(key, []).append(name)

        def nodes_done(events: list[tuple[str, _Out | None, StsdashError | None]]) -> None:
            ready: list[tuple[str, _Out]] = []
            for key, out, error in events:
                for name in by_node.get(key, []):
                    if error is not None:
                        warnings = ctx.warnings_for(plan.roots[name])
                        target = profiles.profiles[name].target
                        finish(RefreshResult(name, False, target, None, None, _named(error, name), warnings))
                    elif out is not None:
                        ready.append((name, out))
            if not ready:
                return
            updates = [(profiles.profiles[n].target or "", out.creds) for n, out in ready]
            failures = self._write(writer, updates)
            for name, out in ready:
                target, warnings = profiles.profiles[name].target, ctx.warnings_for(plan.roots[name])
                error = failures.get(target or "")
                if error is not None:
                    finish(RefreshResult(name, False, target, None, None, _named(error, name), warnings))
                    continue
                fresh[name] = out.creds
                finish(RefreshResult(name, True, target, out.creds.expiration, out.identity, None, warnings))

        ctx.run(max(1, int(self.settings.max_concurrency)), nodes_done)
        for name in names:  # a safety net: every requested profile gets a result
            if name not in finished:
                error = StsdashError(f"profile {name}: not refreshed (its dependencies never finished)")
                profile = profiles.profiles.get(name)
                finish(RefreshResult(name, False, profile.target if profile else None, None, None, error))
        return [finished[name] for name in names if name in finished], fresh

    @staticmethod
    def _writable(writer: CredentialsWriter, profiles: ProfileSet, name: str) -> StsdashError | None:
        """Why `name`'s target would be refused right now, or None (also None when planning will fail)."""
        profile = profiles.profiles.get(name)
        if profile is None or not profile.target or profile.problem:
            return None
        try:
            writer.check(profile.target)
        except StsdashError as exc:
            return _named(exc, name)
        return None

    def _write(
        self, writer: CredentialsWriter, updates: list[tuple[str, Credentials]]
    ) -> dict[str, StsdashError]:
        """Group commit: everything that finished while the last write ran goes in one transaction.

        Writes are serialized (file lock + fsync dominate), so batching is what keeps the writer from
        becoming the bottleneck of a concurrent refresh. If the batch is refused, each section is
        retried alone, so one refused target never costs the others their result.
        """
        from stsdash.awsfiles.writer import SectionUpdate

        batch = [SectionUpdate(section, creds) for section, creds in updates]
        with self._write_lock:
            try:
                writer.write(batch)
                return {}
            except StsdashError as exc:
                if len(batch) == 1:
                    return {batch[0].section: exc}
            failures: dict[str, StsdashError] = {}
            for update in batch:
                try:
                    writer.write([update])
                except StsdashError as exc:
                    failures[update.section] = exc
            return failures

    # -- node runners (called from pool threads) -----------------------------------------------------
    def _run_device(self, ctx: _RunContext, device: _Device) -> _Out:
        plan = ctx.plan
        with self._device_lock(device.serial):
            stored = self._stored_session(device.serial, utcnow())  # another refresh may have got one
            if stored is not None:
                return _Out(stored, None, False, stored_serial=device.serial)
            user = plan.ps.profiles[device.user]
            client = self._client(user, plan.ps)

            def call(code: str | None) -> ProviderResult:
                return client.get_session_token(
                    device.keys,
                    duration_seconds=self.settings.session_duration,
                    serial_number=device.serial,
                    token_code=code,
                )

            result = ctx.with_code(f"mfa:{device.serial}", call)
            try:
                self.secrets.set_mfa_session(device.serial, result.credentials)
            except StsdashError as exc:  # the refresh still worked; only the reuse is lost
                log.warning("MFA session for %s not kept: %s", device.serial, exc.message)
            return _Out(result.credentials, result.identity, False)

    def _run_role(self, ctx: _RunContext, r: Profile, source: _Source, own_serial: str | None) -> _Out:
        plan = ctx.plan
        stored_serial = None
        if source.dep:
            dep_out = ctx.outs[source.dep]
            stored_serial = dep_out.stored_serial
            creds, role_like = dep_out.creds, source.role_like or dep_out.role_like
        else:
            assert source.creds is not None
            creds, role_like = source.creds, source.role_like
        duration, warnings = self._duration(r, chained=role_like)
        extra = self.settings.profile(r.name)
        client = self._client(r, plan.ps)

        def call(code: str | None) -> ProviderResult:
            return client.assume_role(
                creds,
                role_arn=r.role_arn,
                role_session_name=self._session_name(r),
                duration_seconds=duration,
                external_id=r.external_id,
                serial_number=own_serial if code else None,
                token_code=code,
                source_identity=r.source_identity,
                tags=dict(extra.session_tags) or None,
                transitive_tag_keys=list(extra.transitive_tag_keys) or None,
                policy_arns=list(extra.policy_arns) or None,
            )

        try:
            result = ctx.with_code(f"cred:{r.name}", call) if own_serial else call(None)
        except ProviderError as exc:
            if stored_serial and exc.code in ("ExpiredToken", "InvalidClientTokenId"):
                with contextlib.suppress(StsdashError):
                    self.secrets.delete_mfa_session(stored_serial)
                raise ProviderError(
                    exc.message,
                    code=exc.code,
                    hint="The stored MFA session was rejected and is dropped; refresh again for a new code.",
                ) from None
            raise
        return _Out(result.credentials, result.identity, True, warnings)

    # -- helpers -------------------------------------------------------------------------------------
    def _stored_session(self, serial: str, now: datetime) -> Credentials | None:
        """A keyring MFA session with more than refresh_ahead left, else None (then a code is needed)."""
        try:
            stored = self.secrets.get_mfa_session(serial, now)
        except StsdashError as exc:  # no usable keyring: ask for a code instead of failing the refresh
            log.warning("MFA session for %s not read from the keyring: %s", serial, exc.message)
            return None
        if stored is None or stored.expiration is None:
            return None
        return stored if stored.expiration - now > self.settings.refresh_ahead else None

    def _device_lock(self, serial: str) -> threading.Lock:
        with self._locks_lock:
            return self._device_locks.setdefault(serial, threading.Lock())

    def _client(self, profile: Profile, profiles: ProfileSet) -> StsClient:
        from stsdash.providers.endpoints import sts_client_for

        return sts_client_for(profile, profiles, self.env)

    def _long_term(self, p: Profile) -> Credentials | None:
        """The IAM user keys of `p`: from the files, else from the keyring. None if it has none."""
        kind = str(p.kind)
        if kind in ("sso", "web-identity"):  # botocore prefers these over keys in the same profile
            return None
        static = p.static_credentials
        if static is not None:
            return None if static.is_temporary else static
        if kind in ("assume-role", "credential-process"):
            return None
        return self.secrets.get_long_term(p.name)

    def _credential_source(self, r: Profile) -> Credentials:
        source = (r.credential_source or "").lower()
        if source != "environment":
            raise UsageError(
                f"profile {r.name}: credential_source={r.credential_source} is not supported by stsdash",
                hint="Only credential_source = Environment can be refreshed from a dashboard.",
            )
        key = self.env.get("AWS_ACCESS_KEY_ID")
        secret = self.env.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            raise StsdashError(
                f"profile {r.name}: credential_source = Environment, but AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY are not set"
            )
        token = self.env.get("AWS_SECURITY_TOKEN") or self.env.get("AWS_SESSION_TOKEN") or None
        return Credentials(key, secret, token)

    def _duration(self, p: Profile, *, chained: bool) -> tuple[int | None, list[str]]:
        """Per-profile settings, then the profile's duration_seconds, then settings.role_duration."""
        configured = self.settings.profile(p.name).duration_seconds or p.duration_seconds
        duration = configured or self.settings.role_duration
        if chained and duration and duration > CHAINED_ROLE_MAX_SECONDS:
            return CHAINED_ROLE_MAX_SECONDS, [
                f"profile {p.name}: duration {duration} s clamped to {CHAINED_ROLE_MAX_SECONDS} s "
                "(STS limit for role chaining)"
            ]
        return duration, []

    def _session_name(self, p: Profile) -> str:
        configured = self.settings.profile(p.name).role_session_name or p.role_session_name
        return configured or default_session_name(self.env)

    def _cached_target(self, profiles: ProfileSet, profile: Profile, now: datetime) -> Credentials | None:
        section = profiles.profiles.get(profile.target or "")
        creds = section.static_credentials if section else None
        expires = profile.expires_at or (creds.expiration if creds else None)
        if creds is None or not creds.is_temporary or expires is None:
            return None
        if expires - now <= CACHE_MIN_REMAINING:
            return None
        return Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token, expires)

    def _current(self, profiles: ProfileSet, profile: Profile) -> Credentials | None:
        if profile.target and profile.target != profile.name:
            section = profiles.profiles.get(profile.target)
            creds = section.static_credentials if section else None
            expires = profile.expires_at or (creds.expiration if creds else None)
            if creds is not None and (expires is None or expires > utcnow()):
                return creds
        if profile.static_credentials is not None:
            expires = profile.expires_at
            if expires is None or expires > utcnow():
                return profile.static_credentials
            return None
        return self._long_term(profile)


# ---------------------------------------------------------------------------------------------- running


_Event = tuple[str, "_Out | None", "StsdashError | None"]


class _RunContext:
    """Runs a plan's nodes on a bounded pool in dependency order and asks for codes one at a time."""

    def __init__(self, plan: _Plan, code_provider: CodeProvider) -> None:
        self.plan = plan
        self.code_provider = code_provider
        self.outs: dict[str, _Out] = {}
        self.failed: dict[str, StsdashError] = {}

    def warnings_for(self, root: str) -> list[str]:
        seen: list[str] = []
        for key in self.plan.closure(root):
            out = self.outs.get(key)
            for w in out.warnings if out else []:
                if w not in seen:
                    seen.append(w)
        return seen

    def run(self, workers: int, nodes_done: Callable[[list[_Event]], None]) -> None:
        """Submit nodes as their dependencies finish; report finished nodes in batches."""
        needed: set[str] = set()
        for root in self.plan.roots.values():
            needed |= self.plan.closure(root)
        pending = set(needed)
        running: dict[Future[_Out], str] = {}
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stsdash-refresh")
        try:
            while pending or running:
                events: list[_Event] = []
                progressed = True
                while progressed:
                    progressed = False
                    for key in sorted(pending):
                        node = self.plan.nodes[key]
                        bad = next((d for d in node.deps if d in self.failed), None)
                        if bad is not None:
                            pending.discard(key)
                            self.failed[key] = self.failed[bad]
                            events.append((key, None, self.failed[key]))
                            progressed = True
                        elif all(d in self.outs for d in node.deps):
                            pending.discard(key)
                            running[pool.submit(self._execute, node)] = key
                if events:
                    nodes_done(events)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                events = []
                for future in done:
                    key = running.pop(future)
                    try:
                        out = future.result()
                    except StsdashError as exc:
                        self.failed[key] = exc
                        events.append((key, None, exc))
                    else:
                        self.outs[key] = out
                        events.append((key, out, None))
                nodes_done(events)
        except BaseException:  # Ctrl-C: do not wait for calls (or a prompt) still in flight
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def _execute(self, node: _Node) -> _Out:
        try:
            return node.run(self)
        except StsdashError as exc:
            raise _named(exc, node.profile) from None
        except Exception as exc:  # a bug in one profile must not take the others down
            log.exception("refresh of %s failed", node.profile)
            raise StsdashError(
                f"profile {node.profile}: unexpected error: {type(exc).__name__}: {exc}"
            ) from None

    def with_code(self, key: str, call: Callable[[str | None], ProviderResult]) -> ProviderResult:
        """Ask for a code (or run mfa_process) and call; a wrong/reused code asks again, 3 attempts."""
        node = self.plan.nodes[key]
        names = [n for n, root in self.plan.roots.items() if key in self.plan.closure(root)]
        reason = self.plan.reason(key, names)
        last: MfaCodeError | None = None
        for attempt in range(1, MAX_CODE_ATTEMPTS + 1):
            request = MfaRequest(
                serial=node.mfa_serial or "",
                profiles=list(names),
                reason=reason,
                attempt=attempt,
                last_error=_sts_message(last) if last else None,
            )
            code = self._code(node, request)
            if code is None:
                raise RefreshCancelled(
                    f"profile {node.profile}: no MFA code given for {request.serial}; skipped"
                )
            try:
                return call(code)
            except MfaCodeError as exc:
                last = exc
        assert last is not None
        raise last

    def _code(self, node: _Node, request: MfaRequest) -> str | None:
        engine = self.plan.engine
        if node.mfa_process:
            return run_mfa_process(node.mfa_process, profile=node.profile)
        with engine._prompt_lock:
            code = self.code_provider(request)
        return code.strip() if code is not None else None


# ---------------------------------------------------------------------------------------------- helpers


def default_session_name(env: Mapping[str, str] | None = None) -> str:
    """`stsdash-<local user>`, so CloudTrail shows who assumed the role; sanitized to STS's rules."""
    env = os.environ if env is None else env
    user = env.get("USER") or env.get("USERNAME") or env.get("LOGNAME")
    if not user:
        try:
            user = getpass.getuser()
        except Exception:  # no passwd entry (containers)
            user = ""
    return sanitize_session_name(f"stsdash-{user}" if user else "stsdash")


def sanitize_session_name(name: str) -> str:
    cleaned = _SESSION_NAME_BAD.sub("-", name)[:64]
    return cleaned if len(cleaned) >= 2 else (cleaned + "--")[:2]


def run_mfa_process(command: str, *, profile: str, timeout: float = 60) -> str:
    """Run a profile's mfa_process (shlex, no shell) and return the 6-digit code it prints."""
    try:
        argv = shlex.split(command)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (ValueError, OSError, subprocess.TimeoutExpired) as exc:
        raise StsdashError(f"profile {profile}: mfa_process failed to run: {exc}") from None
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise StsdashError(f"profile {profile}: mfa_process failed: {detail[0]}")
    code = proc.stdout.strip()
    if not re.fullmatch(r"\d{6}", code):
        raise StsdashError(f"profile {profile}: mfa_process did not print a 6-digit code")
    return code


def _sts_message(exc: ProviderError) -> str:
    prefix = f"profile {exc.profile}: "
    return exc.message[len(prefix) :] if exc.profile and exc.message.startswith(prefix) else exc.message


def _no_code_provider(request: MfaRequest) -> str | None:
    raise MfaCodeRequired(
        f"profile {', '.join(request.profiles)}: an MFA code for {request.serial} is needed",
        hint="Run `stsdash refresh` in a terminal first, or pass --code.",
    )


def _named(exc: StsdashError, profile: str) -> StsdashError:
    """The same error (same class), its message naming `profile`; a source's error says `via` which."""
    marker = f"profile {profile}:"
    at = exc.message.find(marker)
    if at == 0:
        return exc
    if at > 0:
        # The innermost error already names this profile (e.g. its own MFA prompt failed while a
        # source was being refreshed): drop the detour rather than name the profile twice.
        message = exc.message[at + len(marker):].lstrip()
    else:
        message = f"via {exc.message}" if exc.message.startswith("profile ") else exc.message
    if isinstance(exc, ProviderError):
        copy: StsdashError = type(exc).__new__(type(exc))
        ProviderError.__init__(
            copy, message, profile=profile, code=exc.code, hint=exc.hint, retryable=exc.retryable  # type: ignore[arg-type]
        )
    else:
        try:
            copy = type(exc)(f"profile {profile}: {message}", hint=exc.hint)
        except TypeError:  # a subclass with its own constructor (WriteRefused, FileFormatError)
            copy = StsdashError(f"profile {profile}: {message}", hint=exc.hint)
            copy.exit_code = exc.exit_code
    copy.__cause__ = exc
    return copy


__all__ = [
    "CodeProvider",
    "MfaCodeRequired",
    "MfaRequest",
    "RefreshCancelled",
    "RefreshEngine",
    "RefreshResult",
    "SsoCredentialSource",
    "default_session_name",
]
