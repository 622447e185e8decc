"""The grouped write: finished profiles go to the credentials file in as few transactions as possible.

Writes are serialized (file lock + fsync dominate), so everything that finished while the previous
write ran goes into one CredentialsWriter transaction; one write per profile would serialize a
concurrent refresh behind the disk. A refused batch is retried section by section, so one refused
target never costs another profile its result; nothing is written for a profile that failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from stsdash.errors import StsdashError

if TYPE_CHECKING:
    from pathlib import Path

    from stsdash.creds import Credentials
    from stsdash.profiles import ProfileSet


log = logging.getLogger(__name__)


class GroupWriter:
    def __init__(self, path: Path, lock: threading.Lock) -> None:
        from stsdash.awsfiles.writer import CredentialsWriter

        self.writer = CredentialsWriter(path)
        self.lock = lock  # shared by every refresh of one engine

    def refusal(self, profiles: ProfileSet, name: str) -> StsdashError | None:
        """Why `name`'s target would be refused right now, or None (also None when planning will fail)."""
        profile = profiles.profiles.get(name)
        if profile is None or not profile.target or profile.problem:
            return None
        try:
            self.writer.check(profile.target)
        except StsdashError as exc:
            return exc.for_profile(name)
        return None

    def write(
        self, updates: Sequence[tuple[str, Credentials, Mapping[str, str | None]]]
    ) -> dict[str, StsdashError]:
        """Write every (section, credentials, target settings) in one transaction; the refused sections.

        The target settings (region, endpoints: `Profile.target_settings`) go beside the keys so
        `AWS_PROFILE=<target>` works on its own.
        """
        from stsdash.awsfiles.writer import SectionUpdate

        batch = [SectionUpdate(section, creds, settings) for section, creds, settings in updates]
        with self.lock:
            try:
                self.writer.write(batch)
                log.debug("wrote [%s] to %s", "], [".join(u.section for u in batch), self.writer.path)
                return {}
            except StsdashError as exc:
                if len(batch) == 1:
                    return {batch[0].section: exc}
            failures: dict[str, StsdashError] = {}
            for update in batch:
                try:
                    self.writer.write([update])
                except StsdashError as exc:
                    failures[update.section] = exc
            return failures
