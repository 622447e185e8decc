"""`stsdash refresh PROFILE... | --stale`: refresh from the command line, one MFA code per device.

Exit status: 0 all refreshed, 1 some failed, 2 usage or configuration error (nothing was refreshed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stsdash.engine import MfaRequest, RefreshResult

_CODE = re.compile(r"\d{6}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "refresh",
        help="refresh temporary credentials for profiles",
        description="Refresh the named profiles (or every stale one) and write their credentials "
        "sections. Profiles behind the same MFA device share one code.",
    )
    parser.add_argument("profiles", nargs="*", metavar="PROFILE", help="profiles to refresh")
    parser.add_argument("--stale", action="store_true", help="refresh every expired or expiring profile")
    parser.add_argument("--code", metavar="123456", help="MFA code to use first (instead of a prompt)")
    parser.add_argument("--json", action="store_true", help="print the results as a JSON list")
    parser.add_argument("--saml-assertion", metavar="FILE",
                        help="SAMLResponse for SAML profiles without saml_process (- reads stdin)")
    parser.add_argument("--saml-role", metavar="ARN", help="role to assume when the assertion offers several")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stsdash.engine import RefreshEngine
    from stsdash.errors import UsageError

    if bool(args.profiles) == bool(args.stale):
        raise UsageError("give one or more PROFILE names, or --stale (not both)")
    if args.code is not None and not _CODE.fullmatch(args.code.strip()):
        raise UsageError("--code must be exactly 6 digits")
    engine = RefreshEngine()
    profiles = engine.load()
    if args.stale:
        names = engine.stale(profiles)
    else:
        names = list(dict.fromkeys(args.profiles))
        for name in names:
            profile = profiles.profiles.get(name)
            if profile is None:
                raise UsageError("no such profile", profile=name, hint="`stsdash list` shows them all.")
            if profile.problem:
                raise UsageError(profile.problem, profile=name)
            if not profile.refreshable:
                raise UsageError(
                    f"nothing to refresh ({profile.kind} profile)",
                    profile=name,
                    hint="Roles, SSO, web identity, credential_process and MFA users can be refreshed.",
                )
    if not names:
        if args.json:
            print("[]")
        else:
            print("nothing to refresh", file=sys.stderr)
        return 0
    codes = TerminalCodes(args.code)
    if args.code is None and has_tty():
        # The first code is asked for here, on the main thread, so Ctrl-C at the prompt just stops.
        planned = engine.mfa_requests(names)
        if planned:
            codes.preset(planned[0], prompt_code(planned[0]))

    def show(result: RefreshResult) -> None:
        if not args.json:
            print(describe(result), flush=True)

    from stsdash.saml.terminal import TerminalSaml

    saml = TerminalSaml(args.saml_assertion, args.saml_role, has_tty=has_tty)
    results = engine.refresh(names, code_provider=codes, on_result=show, saml_prompt=saml)
    if args.json:
        print(json.dumps([result_json(r) for r in results], indent=2))
    return 0 if all(r.ok for r in results) else 1


class TerminalCodes:
    """Code provider for the CLI: --code first, then getpass on the terminal (never echoed)."""

    def __init__(self, code: str | None = None, *, what: str = "refresh") -> None:
        self.code = code.strip() if code else None
        self.what = what
        self._presets: dict[tuple[str, tuple[str, ...]], str | None] = {}

    def preset(self, request: MfaRequest, code: str | None) -> None:
        """A code already asked for `request` (same device and profiles); used once, on attempt 1."""
        self._presets[(request.serial, tuple(request.profiles))] = code

    def __call__(self, request: MfaRequest) -> str | None:
        from stsdash.engine import MfaCodeRequired

        key = (request.serial, tuple(request.profiles))
        if request.attempt == 1 and key in self._presets:
            return self._presets.pop(key)
        if self.code is not None and request.attempt == 1:
            code, self.code = self.code, None  # single-use, like the code itself
            return code
        if not has_tty():
            if request.attempt > 1 and request.last_error:
                # The --code was used and STS refused it: say so, rather than only that none is left.
                raise MfaCodeRequired(
                    f"the MFA code for {request.serial} was rejected: {request.last_error}",
                    profile=", ".join(request.profiles),
                    hint=f"Codes are single-use: wait for the next one. Pass --code NEWCODE, "
                    f"or run `stsdash {self.what}` in a terminal.",
                )
            raise MfaCodeRequired(
                f"an MFA code for {request.serial} is needed and there is no terminal to ask on",
                profile=", ".join(request.profiles),
                hint=f"Pass --code 123456, or run `stsdash {self.what}` in a terminal.",
            )
        return prompt_code(request)


def has_tty() -> bool:
    """A terminal we may prompt on: ours, and we are in its foreground (a background job that read it
    would be stopped by SIGTTIN, so it must ask elsewhere: see stsdash.broker.prompts)."""
    if os.name == "nt":  # no /dev/tty; getpass reads the console itself
        return sys.stdin.isatty()
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return True
    finally:
        os.close(fd)


def prompt_code(request: MfaRequest) -> str | None:
    """Ask on the terminal; an empty answer cancels this device's profiles."""
    import getpass

    lines = [f"MFA code needed for {request.serial}", f"  unlocks: {', '.join(request.profiles)}"]
    if request.reason:
        lines.append(f"  ({request.reason})")
    if request.last_error:
        lines.append(f"  attempt {request.attempt}: the last code failed: {request.last_error}")
    _to_terminal("\n".join(lines) + "\n")
    while True:
        code = getpass.getpass("MFA code (empty to skip): ").strip()
        if not code:
            return None
        if _CODE.fullmatch(code):
            return code
        _to_terminal("  a code is exactly 6 digits\n")


def _to_terminal(text: str) -> None:
    """The terminal even when stdout/stderr are redirected (Windows has no /dev/tty: stderr there)."""
    if os.name == "nt":
        sys.stderr.write(text)
        sys.stderr.flush()
        return
    with open("/dev/tty", "w") as tty:
        tty.write(text)


def describe(result: RefreshResult) -> str:
    from stsdash.timeutil import format_countdown, format_utc, utcnow

    lines = []
    if result.ok:
        until, expires = "", result.expires_at
        if expires is not None:
            until = f" until {format_utc(expires)} ({format_countdown(expires, utcnow())})"
        who = f" as {result.identity.arn}" if result.identity else ""
        lines.append(f"ok      {result.profile} -> [{result.target}]{until}{who}")
    else:
        lines.append(f"FAILED  {result.profile}: {result.error}")
    lines.extend(f"        note: {w}" for w in result.warnings)
    return "\n".join(lines)


def result_json(result: RefreshResult) -> dict[str, Any]:
    from stsdash.timeutil import format_utc

    error = identity = None
    if result.identity is not None:
        who = result.identity
        identity = {"account": who.account, "arn": who.arn, "user_id": who.user_id}
    if result.error is not None:
        error = {
            "message": result.error.message,
            "hint": result.error.hint,
            "code": getattr(result.error, "code", None),
            "type": type(result.error).__name__,
        }
    return {
        "profile": result.profile,
        "ok": result.ok,
        "target": result.target,
        "expires_at": format_utc(result.expires_at) if result.expires_at else None,
        "identity": identity,
        "error": error,
        "warnings": list(result.warnings),
    }
