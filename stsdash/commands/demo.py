"""`stsdash demo`: the real dashboard against local STS and SSO emulators, in a throwaway home."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="try the dashboard against local emulators (needs the `demo` extra)",
        description="Run the dashboard against a local STS emulator (moto) and a local SSO server, "
                    "with a temporary home holding example profiles. Any six digits pass the MFA "
                    "prompt. Your own ~/.aws is never read or written.")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home and print its path")
    parser.add_argument("--print-env", action="store_true",
                        help="set everything up, print the environment to use it from a shell, and wait")
    parser.add_argument("--prompt", action="store_true",
                        help="also start a background program with no terminal that needs an MFA code: "
                        "its prompt appears in the dashboard")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stsdash_demo.runner import run_demo

    return run_demo(keep=args.keep, print_env=args.print_env, prompt=args.prompt)
