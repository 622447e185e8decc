"""`stsdash fix-permissions`: make the credentials file readable by its owner only."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fix-permissions",
        help="make ~/.aws/credentials readable by you only (chmod go-rwx)",
        description="Take group and other access away from the shared credentials file.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stsdash.awsfiles.paths import aws_paths
    from stsdash.awsfiles.perms import fix_permissions

    path = aws_paths().credentials
    result = fix_permissions(path)
    if result is None:
        print(f"{path} does not exist; nothing to do.")
        return 0
    old, new = result
    if old == new:
        print(f"{path} is already mode {new:04o}.")
    else:
        print(f"{path}: mode {old:04o} -> {new:04o}.", file=sys.stdout)
    return 0
