"""Which account a long-term access key belongs to (STS GetAccessKeyInfo), cached for good.

A key id never changes accounts, so an answer is kept forever in `key-accounts.json` in the user cache
directory (`$XDG_CACHE_HOME/stsdash` on Linux). The cache is keyed by a SHA-256 of the key id, so the
file names no key; it holds only account ids. A failed lookup is not cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsdash.creds import Credentials
    from stsdash.providers.sts import StsClient


def cache_path(env: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if env is None else env
    override = environ.get("XDG_CACHE_HOME")
    if override:
        return Path(override, "stsdash", "key-accounts.json")
    import platformdirs

    return Path(platformdirs.user_cache_dir("stsdash", appauthor=False)) / "key-accounts.json"


def _digest(key_id: str) -> str:
    return hashlib.sha256(key_id.encode()).hexdigest()[:32]


class KeyAccounts:
    """GetAccessKeyInfo answers, read from and written to the cache file. Thread-safe."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_path()
        self._lock = threading.Lock()
        self._data: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text())
                self._data = {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
            except (OSError, ValueError, AttributeError):
                self._data = {}  # missing or damaged: it is only a cache
        return self._data

    def cached(self, key_id: str) -> str | None:
        with self._lock:
            return self._load().get(_digest(key_id))

    def lookup(self, client: StsClient, creds: Credentials, key_id: str | None = None) -> str:
        """The account of `key_id` (default: the signing key itself), from the cache or from STS."""
        key_id = key_id or creds.access_key_id
        found = self.cached(key_id)
        if found is not None:
            return found
        account = client.get_access_key_info(creds, key_id)
        self._store(key_id, account)
        return account

    def _store(self, key_id: str, account: str) -> None:
        from stsdash.awsfiles.atomic import atomic_write

        with self._lock:
            data = dict(self._load())
            data[_digest(key_id)] = account
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True).encode(), mode=0o600)
            except OSError:
                pass  # an unwritable cache only costs a lookup next time
            self._data = data
