"""RefreshEngine: plans and runs credential refreshes, then writes each result through CredentialsWriter.

The work is split by job (see `stsdash.refresh`): `plan.py` turns the requested profiles into a graph
of hops (one MFA session per device, then every role assumed with it), `run.py` runs the hops on a
thread pool as wide as the graph allows (bounded by settings.max_concurrency) and asks for codes, and
this module does the calls themselves and the writes. All hops of one refresh share one pooled HTTP
session, so calls to the same endpoint reuse keep-alive connections instead of a TCP (and TLS)
handshake each.

Writes are group-committed by the calling thread: everything that finished while the previous write
ran goes into one CredentialsWriter transaction (each write locks, rewrites and fsyncs the whole file,
so one write per profile would serialize a concurrent refresh behind the disk). A refused batch is
retried section by section, so one refused target never costs another profile its result; nothing is
written for a profile that failed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from stsdash.creds import Credentials, Identity
from stsdash.errors import ProviderError, StsdashError, UsageError
from stsdash.policies import session_policy
from stsdash.refresh.model import (
    CodeProvider,
    Device,
    MfaCodeRequired,
    MfaRequest,
    Out,
    RefreshCancelled,
    RefreshResult,
    Source,
    SsoCredentialSource,
)
from stsdash.refresh.naming import default_session_name, named, sanitize_session_name
from stsdash.refresh.plan import Plan
from stsdash.refresh.run import MAX_CODE_ATTEMPTS, Runner, run_mfa_process
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    import requests

    from stsdash.awsfiles.paths import AwsPaths
    from stsdash.awsfiles.writer import CredentialsWriter
    from stsdash.profiles import Profile, ProfileSet
    from stsdash.providers.base import ProviderResult
    from stsdash.providers.sts import StsClient
    from stsdash.secrets import SecretStore
    from stsdash.settings import Settings

log = logging.getLogger(__name__)

CHAINED_ROLE_MAX_SECONDS = 3600  # STS caps role->role hops at one hour
CACHE_MIN_REMAINING = timedelta(minutes=15)  # botocore reuses cached credentials only with > 15 min left


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
        # Held across GetSessionToken on purpose: a second refresh() for the same device waits and then
        # reuses the stored session instead of spending another code. AssumeRole hops never take it.
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
            raise named(exc, name) from None

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
    def _plan(self, profiles: ProfileSet, names: Sequence[str]) -> Plan:
        plan = Plan(self, profiles, utcnow(), names)
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
        ctx = Runner(plan, code_provider)
        by_node: dict[str, list[str]] = {}
        for name, key in plan.roots.items():
            by_node.setdefault(key, []).append(name)

        def nodes_done(events: list[tuple[str, Out | None, StsdashError | None]]) -> None:
            ready: list[tuple[str, Out]] = []
            for key, out, error in events:
                for name in by_node.get(key, []):
                    if error is not None:
                        warnings = ctx.warnings_for(plan.roots[name])
                        target = profiles.profiles[name].target
                        finish(RefreshResult(name, False, target, None, None, named(error, name), warnings))
                    elif out is not None:
                        ready.append((name, out))
            if not ready:
                return
            updates = [
                (profiles.profiles[n].target or "", out.creds, profiles.profiles[n].target_settings)
                for n, out in ready
            ]
            failures = self._write(writer, updates)
            for name, out in ready:
                target, warnings = profiles.profiles[name].target, ctx.warnings_for(plan.roots[name])
                error = failures.get(target or "")
                if error is not None:
                    finish(RefreshResult(name, False, target, None, None, named(error, name), warnings))
                    continue
                fresh[name] = out.creds
                finish(RefreshResult(name, True, target, out.creds.expiration, out.identity, None, warnings))

        from stsdash.providers.http import make_session

        workers = self._workers(plan)
        # One pooled session for every hop of this refresh: keep-alive connections are reused by the
        # next hop to the same endpoint, and the pool holds as many as there are workers. It lives only
        # as long as this call, so no idle connection is ever reused after the server dropped it.
        plan.http = make_session(pool_maxsize=workers)
        try:
            ctx.run(workers, nodes_done)
        finally:
            plan.http.close()
        for name in names:  # a safety net: every requested profile gets a result
            if name not in finished:
                error = StsdashError(f"profile {name}: not refreshed (its dependencies never finished)")
                profile = profiles.profiles.get(name)
                finish(RefreshResult(name, False, profile.target if profile else None, None, None, error))
        return [finished[name] for name in names if name in finished], fresh

    def _workers(self, plan: Plan) -> int:
        """As many threads as hops can run at once, bounded by settings.max_concurrency."""
        return max(1, min(int(self.settings.max_concurrency), plan.width()))

    @staticmethod
    def _writable(writer: CredentialsWriter, profiles: ProfileSet, name: str) -> StsdashError | None:
        """Why `name`'s target would be refused right now, or None (also None when planning will fail)."""
        profile = profiles.profiles.get(name)
        if profile is None or not profile.target or profile.problem:
            return None
        try:
            writer.check(profile.target)
        except StsdashError as exc:
            return named(exc, name)
        return None

    def _write(
        self, writer: CredentialsWriter, updates: Sequence[tuple[str, Credentials, Mapping[str, str | None]]]
    ) -> dict[str, StsdashError]:
        """Group commit: everything that finished while the last write ran goes in one transaction.

        Writes are serialized (file lock + fsync dominate), so batching is what keeps the writer from
        becoming the bottleneck of a concurrent refresh. If the batch is refused, each section is
        retried alone, so one refused target never costs the others their result.
        """
        from stsdash.awsfiles.writer import SectionUpdate

        batch = [SectionUpdate(section, creds, settings) for section, creds, settings in updates]
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
    def _run_device(self, ctx: Runner, device: Device) -> Out:
        plan = ctx.plan
        with self._device_lock(device.serial):
            stored = self._stored_session(device.serial, utcnow())  # another refresh may have got one
            if stored is not None:
                return Out(stored, None, False, stored_serial=device.serial)
            user = plan.ps.profiles[device.user]
            client = self._client(user, plan.ps, plan.http)

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
            return Out(result.credentials, result.identity, False)

    def _run_role(self, ctx: Runner, r: Profile, source: Source, own_serial: str | None) -> Out:
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
        policy = session_policy(extra.policy, extra.policy_file, profile=r.name)
        client = self._client(r, plan.ps, plan.http)

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
                policy=policy,
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
        return Out(result.credentials, result.identity, True, warnings)

    def _run_web_identity(self, plan: Plan, p: Profile) -> Out:
        path = Path(os.path.expanduser(p.web_identity_token_file or ""))
        try:
            token = path.read_text().strip()
        except OSError as exc:
            raise StsdashError(
                f"profile {p.name}: cannot read web_identity_token_file {path}: {exc.strerror}"
            ) from None
        client = self._client(p, plan.ps, plan.http)
        duration, warnings = self._duration(p, chained=False)
        extra = self.settings.profile(p.name)
        result = client.assume_role_with_web_identity(
            role_arn=p.role_arn,
            role_session_name=self._session_name(p),
            web_identity_token=token,
            duration_seconds=duration,
            policy=session_policy(extra.policy, extra.policy_file, profile=p.name),
            policy_arns=list(extra.policy_arns) or None,
        )
        return Out(result.credentials, result.identity, True, warnings)

    def _run_sso(self, plan: Plan, p: Profile) -> Out:
        session = plan.ps.sso_sessions.get(p.sso_session or p.sso_start_url or "")
        if session is None:
            raise UsageError(f"profile {p.name}: its SSO session is not defined")
        result = self.sso.role_credentials(session, p.sso_account_id or "", p.sso_role_name or "")
        return Out(result.credentials, result.identity, True)

    def _run_process(self, plan: Plan, p: Profile) -> Out:
        from stsdash.providers.process import run_credential_process

        creds = run_credential_process(p.credential_process or "", profile=p.name)
        return Out(creds, None, False)

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

    def _client(
        self, profile: Profile, profiles: ProfileSet, http: requests.Session | None = None
    ) -> StsClient:
        from stsdash.providers.endpoints import sts_client_for

        return sts_client_for(profile, profiles, self.env, session=http)

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


def _no_code_provider(request: MfaRequest) -> str | None:
    raise MfaCodeRequired(
        f"profile {', '.join(request.profiles)}: an MFA code for {request.serial} is needed",
        hint="Run `stsdash refresh` in a terminal first, or pass --code.",
    )


__all__ = [
    "MAX_CODE_ATTEMPTS",
    "CodeProvider",
    "MfaCodeRequired",
    "MfaRequest",
    "RefreshCancelled",
    "RefreshEngine",
    "RefreshResult",
    "SsoCredentialSource",
    "default_session_name",
    "run_mfa_process",
    "sanitize_session_name",
]
