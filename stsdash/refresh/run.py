"""Running a plan: hops go to a bounded thread pool as soon as their dependencies are done.

A failed hop fails only the profiles that depend on it. Finished hops are reported in batches to the
caller's thread (which writes them: see `stsdash.refresh.writes`). MFA codes are asked for one at a time,
whatever the number of threads; a wrong or reused code asks again, up to MAX_CODE_ATTEMPTS.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from stsdash.errors import MfaCodeError, StsdashError
from stsdash.refresh.model import CodeProvider, MfaRequest, Out, RefreshCancelled

if TYPE_CHECKING:
    from stsdash.providers.base import ProviderResult
    from stsdash.refresh.context import RunContext
    from stsdash.refresh.hops import Hop
    from stsdash.refresh.plan import Plan

log = logging.getLogger(__name__)

MAX_CODE_ATTEMPTS = 3
WRITE_LINGER = 0.02  # s: how long finished hops wait for others to share their write

Event = tuple[str, "Out | None", "StsdashError | None"]


class Runner:
    """Runs one plan's nodes in dependency order and asks for codes one at a time."""

    def __init__(self, plan: Plan, ctx: RunContext, code_provider: CodeProvider) -> None:
        self.plan = plan
        self.ctx = ctx
        ctx.asker = self
        self.code_provider = code_provider
        self.outs: dict[str, Out] = ctx.outs
        self.failed: dict[str, StsdashError] = {}
        self.linger = WRITE_LINGER

    def warnings_for(self, root: str) -> list[str]:
        seen: list[str] = []
        for key in self.plan.closure(root):
            out = self.outs.get(key)
            for w in out.warnings if out else []:
                if w not in seen:
                    seen.append(w)
        return seen

    def run(self, workers: int, nodes_done: Callable[[list[Event]], None]) -> None:
        """Submit nodes as their dependencies finish; report finished nodes in batches."""
        pending = self.plan.needed()
        running: dict[Future[Out], str] = {}
        pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="stsdash-refresh")
        try:
            while pending or running:
                events: list[Event] = []
                for key in sorted(pending):
                    node = self.plan.nodes[key]
                    bad = next((d for d in node.deps if d in self.failed), None)
                    if bad is not None:
                        pending.discard(key)
                        self.failed[key] = self.failed[bad]
                        events.append((key, None, self.failed[key]))
                    elif all(d in self.outs for d in node.deps):
                        pending.discard(key)
                        running[pool.submit(self._execute, node)] = key
                if events:
                    # A failure can fail dependents in turn: look again before waiting.
                    nodes_done(events)
                    continue
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                if running.keys() - done and not self._unblocks(done, running, pending):
                    # Group commit: every write rewrites and fsyncs the whole credentials file, so let
                    # hops finishing within a few ms share one write. Never when a waiting hop needs
                    # one of these results: that would delay its call.
                    more, _ = wait(running.keys() - done, timeout=self.linger, return_when=ALL_COMPLETED)
                    done |= more
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

    def _unblocks(self, done: set[Future[Out]], running: dict[Future[Out], str], pending: set[str]) -> bool:
        """Whether a pending node depends on one of the `done` nodes."""
        keys = {running[f] for f in done}
        return any(not keys.isdisjoint(self.plan.nodes[k].deps) for k in pending)

    def _execute(self, node: Hop) -> Out:
        log.debug("%s: %s for profile %s", node.key, type(node).__name__, node.profile)
        try:
            out = node.run(self.ctx)
        except StsdashError as exc:
            log.debug("%s: failed (%s)", node.key, getattr(exc, "code", None) or type(exc).__name__)
            raise exc.for_profile(node.profile) from None
        except Exception as exc:  # a bug in one profile must not take the others down
            # Only the type: an exception's text (or a traceback's locals) may hold a credential,
            # e.g. requests quoting a header value that ends in a newline.
            log.error("refresh of %s failed: unexpected %s", node.profile, type(exc).__name__)
            raise StsdashError(
                f"unexpected error ({type(exc).__name__})", profile=node.profile
            ) from None
        # The access key id is no secret, but a log is no place for a whole one either.
        key_id = out.creds.access_key_id
        log.debug("%s: credentials %s…%s, expiring %s", node.key, key_id[:4], key_id[-4:],
                  out.creds.expiration.isoformat() if out.creds.expiration else "never")
        return out

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
                last_error=last.text if last else None,
            )
            code = self._code(node, request)
            if code is None:
                raise RefreshCancelled(
                    f"no MFA code given for {request.serial}; skipped", profile=node.profile
                )
            try:
                return call(code)
            except MfaCodeError as exc:
                last = exc
        assert last is not None
        raise last

    def _code(self, node: Hop, request: MfaRequest) -> str | None:
        if node.mfa_process:
            return run_mfa_process(node.mfa_process, profile=node.profile)
        with self.ctx.services.prompt_lock:
            code = self.code_provider(request)
        return code.strip() if code is not None else None


def run_mfa_process(command: str, *, profile: str, timeout: float = 60) -> str:
    """Run a profile's mfa_process (shlex, no shell) and return the 6-digit code it prints.

    Messages name the program only: the rest of the command line may carry a password.
    """
    try:
        argv = shlex.split(command)
    except ValueError:
        raise StsdashError("mfa_process cannot be parsed (check its quoting)", profile=profile) from None
    if not argv:
        raise StsdashError("mfa_process is empty", profile=profile)
    program = os.path.basename(argv[0])
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise StsdashError(
            f"mfa_process {program!r} did not print a code within {timeout:g} s",
            profile=profile,
            hint="Make it non-interactive: it gets no terminal input.",
        ) from None
    except OSError as exc:
        raise StsdashError(
            f"mfa_process {program!r} failed to run: {exc.strerror or type(exc).__name__}", profile=profile
        ) from None
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        raise StsdashError(f"mfa_process {program!r} failed: {detail[0][:300]}", profile=profile)
    code = proc.stdout.strip()
    if not re.fullmatch(r"\d{6}", code):
        raise StsdashError(f"mfa_process {program!r} did not print a 6-digit code", profile=profile)
    return code
