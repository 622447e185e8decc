"""Command-line entry point: `stsdash [SUBCOMMAND]`. With no subcommand, opens the dashboard.

Each subcommand lives in `stsdash.commands.<module>` with `register(subparsers)`; command modules keep
their heavy imports inside their run function so `stsdash list` starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

# Order is the order shown in --help.
COMMAND_MODULES = (
    "tui",
    "list_cmd",
    "refresh",
    "whoami",
    "env",
    "exec_cmd",
    "console",
    "decode",
    "prompt",
    "completion",
    "credential_process",
    "serve",
    "keys",
    "fix_permissions",
    "sso",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    import argparse
    import importlib

    from stsdash import __version__

    parser = argparse.ArgumentParser(
        prog="stsdash",
        description="A terminal dashboard for AWS temporary credentials.",
    )
    parser.add_argument("--version", action="version", version=f"stsdash {__version__}")
    parser.set_defaults(root_parser=parser)  # for `stsdash completion`, which describes the whole CLI
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"stsdash.commands.{name}")
        except ModuleNotFoundError as exc:  # a command still being built must not break the others
            if exc.name != f"stsdash.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    if args_list[:1] == ["prompt"] and "-h" not in args_list and "--help" not in args_list:
        # Runs on every shell prompt: no argparse, no other stsdash module (see commands/prompt.py).
        from stsdash.commands.prompt import run_fast

        return run_fast(args_list[1:])
    from stsdash.errors import StsdashError

    parser = build_parser()
    if _human_output(argv):
        from stsdash.terminal import protect_std_streams

        protect_std_streams()  # no byte from a file or server may drive the terminal
    args = parser.parse_args(argv)
    if args.command is None:
        # Bare `stsdash` opens the dashboard, when that command is installed.
        if not _has_command(parser, "tui"):
            parser.print_help()
            return 2
        args = parser.parse_args(["tui"])
    try:
        return int(args.handler(args) or 0)
    except StsdashError as exc:
        print(f"stsdash: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("stsdash: interrupted", file=sys.stderr)
        from stsdash.exiting import leave_now

        leave_now(130)  # worker threads may still wait on the network: do not join them


def _human_output(argv: Sequence[str] | None) -> bool:
    """Every command but the dashboard (Textual owns the terminal) writes through the escaping filter."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((w for w in words if not w.startswith("-")), None)
    return command not in (None, "tui", "demo")


def _has_command(parser: argparse.ArgumentParser, name: str) -> bool:
    import argparse

    for action in parser._actions:  # argparse offers no public lookup of subcommands
        if isinstance(action, argparse._SubParsersAction):
            return name in action.choices
    return False


if __name__ == "__main__":
    sys.exit(main())
