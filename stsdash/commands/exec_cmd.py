"""`stsdash exec PROFILE [--region R] -- CMD ARGS...`: run a command with a profile's credentials.

The command gets the same variables `stsdash env` prints (keys, AWS_CREDENTIAL_EXPIRATION, AWS_REGION,
AWS_DEFAULT_REGION; AWS_PROFILE removed) plus STSDASH_EXEC_PROFILE, which makes a nested `stsdash exec`
refuse unless --allow-nested is given (an inner exec would otherwise quietly swap the credentials).

stsdash replaces itself with the command (execvp): the command's exit status and any signal reach the
caller unchanged, and nothing is written to disk (credentials travel only in the environment).
`parse_command` and `exec_environment` are kept separate so other front ends (e.g. a credential
server mode) can reuse the argument rules and the environment.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsdash.creds import Credentials

NESTED_VAR = "STSDASH_EXEC_PROFILE"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "exec",
        help="run a command with a profile's credentials in its environment",
        description="Run CMD with the profile's current credentials (refreshed first when stale) in "
        "its environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, "
        "AWS_CREDENTIAL_EXPIRATION, AWS_REGION and AWS_DEFAULT_REGION; AWS_PROFILE is removed.",
        usage="stsdash exec [-h] [--region REGION] [--code 123456] [--allow-nested] [--server] PROFILE "
        "-- CMD [ARGS ...]",
    )
    add_exec_arguments(parser)
    parser.set_defaults(handler=run)


def add_exec_arguments(parser: argparse.ArgumentParser) -> None:
    from stsdash.commands.credentials import add_profile_arguments

    add_profile_arguments(parser)
    parser.add_argument(
        "--allow-nested", action="store_true", help="run even inside another `stsdash exec`"
    )
    parser.add_argument(
        "--server", action="store_true",
        help="serve the credentials on 127.0.0.1 for as long as CMD runs (ECS container protocol), so "
        "its SDKs refresh by themselves, instead of putting fixed keys in its environment",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")


def parse_command(args: argparse.Namespace, env: Mapping[str, str]) -> list[str]:
    """The command to run (without the `--`), after the nesting check. UsageError when unusable."""
    from stsdash.errors import UsageError

    command = list(args.command)
    if command and command[0].startswith("-") and "--" in command:
        # argparse hands everything after PROFILE to the command, so options written between PROFILE
        # and `--` (`exec dev --region eu-west-1 -- aws …`) are parsed here, by the same rules.
        cut = command.index("--")
        if cut:
            _late_options_parser().parse_args(command[:cut], namespace=args)
        command = command[cut + 1 :]
    if not command:
        raise UsageError("no command given", hint="Usage: stsdash exec PROFILE -- CMD [ARGS ...]")
    outer = env.get(NESTED_VAR)
    if outer is not None and not args.allow_nested:
        raise UsageError(
            f"already inside `stsdash exec` for profile {outer}: refusing to run {command[0]} with "
            f"profile {args.profile}'s credentials in it",
            hint="Leave the outer command first, or pass --allow-nested if this is intended.",
        )
    return command


def _late_options_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stsdash exec PROFILE", add_help=False)
    parser.add_argument("--region", metavar="REGION")
    parser.add_argument("--code", metavar="123456")
    parser.add_argument("--allow-nested", action="store_true", default=argparse.SUPPRESS)
    parser.add_argument("--server", action="store_true", default=argparse.SUPPRESS)
    return parser


def exec_environment(
    base: Mapping[str, str], creds: Credentials, region: str | None, profile: str
) -> dict[str, str]:
    """`base` with the credential exports applied and the nesting marker set."""
    from stsdash.exports import credential_exports, render

    exports = credential_exports(creds, region)
    render(exports, "json")  # the same checks as `stsdash env` (no NUL, valid names)
    env = exports.apply(base)
    env[NESTED_VAR] = profile
    return env


def run(args: argparse.Namespace) -> int:
    from stsdash.commands.credentials import resolve

    command = parse_command(args, os.environ)
    if args.server:
        from stsdash.commands.exec_server import run_with_server

        return run_with_server(args, command, {NESTED_VAR: args.profile})
    got = resolve(args.profile, region=args.region, code=args.code, what=f"exec {args.profile}")
    env = exec_environment(os.environ, got.credentials, got.region, args.profile)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], command, env)
    except FileNotFoundError:
        print(f"stsdash: exec: {command[0]}: command not found", file=sys.stderr)
        return 127
    except PermissionError:
        print(f"stsdash: exec: {command[0]}: permission denied", file=sys.stderr)
        return 126
    except OSError as exc:
        print(f"stsdash: exec: {command[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 126
    return 0  # not reached: execvpe replaced this process
