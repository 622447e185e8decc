"""Has another program changed the AWS files? A cheap signature of their modification times.

Polled by the dashboard every couple of seconds (off the UI thread); a change means read them again.
The SSO token cache is a directory: any file added, removed or rewritten there counts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsdash.awsfiles.paths import AwsPaths

POLL_SECONDS = 2.0

Signature = tuple[object, ...]


def watched(paths: AwsPaths) -> list[Path]:
    """What a load reads and other programs write: the config, the credentials, the SSO token cache."""
    return [paths.config, paths.credentials, paths.sso_cache]


def signature(paths: AwsPaths) -> Signature:
    """(mtime, size) of each file, (name, mtime) of each cache entry; None for what is missing."""
    out: list[object] = []
    for path in watched(paths):
        try:
            if path.is_dir():
                with os.scandir(path) as entries:
                    out.append(tuple(sorted((e.name, e.stat().st_mtime_ns) for e in entries)))
            else:
                stat = path.stat()
                out.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append(None)
    return tuple(out)
