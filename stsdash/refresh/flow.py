"""One refresh from names to written files: check targets, plan the hops, run them, write the results.

    refusals (writes.GroupWriter.refusal) -> Plan (plan.py) -> Runner (run.py) -> hops -> GroupWriter.write

Targets are checked first: a code must never be spent on a profile whose write would be refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError
from stsdash.refresh.context import RunContext
from stsdash.refresh.model import CodeProvider, MfaRequest, Out, RefreshResult
from stsdash.refresh.plan import Plan
from stsdash.refresh.run import Event, Runner
from stsdash.refresh.writes import GroupWriter
from stsdash.timeutil import utcnow

if TYPE_CHECKING:
    from stsdash.creds import Credentials
    from stsdash.profiles import ProfileSet
    from stsdash.refresh.context import Services
    from stsdash.saml.session import SamlPrompt


def planned_requests(
    services: Services, profiles: ProfileSet, writer: GroupWriter, names: Sequence[str]
) -> list[MfaRequest]:
    """What refresh(names) will ask for: one request per device (or per role that cannot share)."""
    writable = [n for n in names if writer.refusal(profiles, n) is None]
    return Plan(services, profiles, utcnow(), writable).requests()


def workers_for(services: Services, plan: Plan) -> int:
    """As many threads as hops can run at once, bounded by settings.max_concurrency."""
    return max(1, min(int(services.settings.max_concurrency), plan.width()))


def refresh(
    services: Services,
    profiles: ProfileSet,
    writer: GroupWriter,
    names: Sequence[str],
    code_provider: CodeProvider,
    on_result: Callable[[RefreshResult], None] | None,
    saml_prompt: SamlPrompt | None = None,
) -> tuple[list[RefreshResult], dict[str, Credentials]]:
    """Refresh `names`; every name gets one result, reported through `on_result` as it is known."""
    names = list(dict.fromkeys(names))
    finished: dict[str, RefreshResult] = {}
    fresh: dict[str, Credentials] = {}

    def target(name: str) -> str | None:
        profile = profiles.profiles.get(name)
        return profile.target if profile else None

    def finish(result: RefreshResult) -> None:
        finished[result.profile] = result
        if on_result is not None:
            on_result(result)

    def fail(name: str, error: StsdashError, warnings: list[str] | None = None) -> None:
        finish(RefreshResult(name, False, target(name), None, None, error.for_profile(name), warnings or []))

    writable = []
    for name in names:
        refused = writer.refusal(profiles, name)
        if refused is not None:
            fail(name, refused)
        else:
            writable.append(name)

    now = utcnow()
    plan = Plan(services, profiles, now, writable)
    for name, exc in plan.errors.items():
        fail(name, exc)
    ctx = RunContext(services, profiles, now, saml_prompt=saml_prompt)
    runner = Runner(plan, ctx, code_provider)
    roots = {**plan.roots, **_saml_sessions_on_the_way(plan, profiles, writer)}
    by_node: dict[str, list[str]] = {}
    for name, key in roots.items():
        by_node.setdefault(key, []).append(name)

    def nodes_done(events: list[Event]) -> None:
        ready: list[tuple[str, Out]] = []
        for key, out, error in events:
            for name in by_node.get(key, []):
                if error is not None:
                    fail(name, error, runner.warnings_for(roots[name]))
                elif out is not None:
                    ready.append((name, out))
        if not ready:
            return
        failures = writer.write(
            [(target(n) or "", out.creds, profiles.profiles[n].target_settings) for n, out in ready]
        )
        for name, out in ready:
            warnings = runner.warnings_for(roots[name])
            error = failures.get(target(name) or "")
            if error is not None:
                fail(name, error, warnings)
                continue
            fresh[name] = out.creds
            expires = out.creds.expiration
            finish(RefreshResult(name, True, target(name), expires, out.identity, None, warnings))

    from stsdash.providers.http import make_session

    workers = workers_for(services, plan)
    # One pooled session for every hop of this refresh: keep-alive connections are reused by the
    # next hop to the same endpoint, and the pool holds as many as there are workers. It lives only
    # as long as this call, so no idle connection is ever reused after the server dropped it.
    ctx.http = make_session(pool_maxsize=workers)
    try:
        runner.run(workers, nodes_done)
    finally:
        ctx.http.close()
    for name in names:  # a safety net: every requested profile gets a result
        if name not in finished:
            fail(name, StsdashError("not refreshed (its dependencies never finished)", profile=name))
    return [finished[name] for name in names if name in finished], fresh


def _saml_sessions_on_the_way(plan: Plan, profiles: ProfileSet, writer: GroupWriter) -> dict[str, str]:
    """SAML sessions that requested roles are assumed through, written too (and reported): a new
    assertion means signing in again, so the next role refreshed from that session finds it."""
    from stsdash.refresh.hops import SamlHop

    extra = {}
    for key in plan.needed():
        hop = plan.nodes[key]
        name = hop.profile
        if (isinstance(hop, SamlHop) and name not in plan.roots and profiles.profiles[name].target
                and writer.refusal(profiles, name) is None):
            extra[name] = key
    return extra
