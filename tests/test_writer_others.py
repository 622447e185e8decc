"""Other programs and other users around ~/.aws/credentials: nothing of theirs is lost or taken over.

- a tool that takes no lock writes while stsdash edits: its update survives (re-read, redo);
- a tool that rewrites in place (truncate, then write) is caught half-way: stsdash waits for the whole
  file, and refuses if it stays a prefix;
- root with another user's HOME: refused unless allowed; when allowed, owner, group and xattrs stay;
- a hard-linked file is refused (an atomic replace would split the link).
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

import pytest

from stsdash.awsfiles import guard, iniedit
from stsdash.awsfiles.writer import CredentialsWriter, SectionUpdate
from stsdash.creds import Credentials
from stsdash.errors import CredentialsWriteError, WriteRefused
from tests.support.awsenv import assert_resolves

EXPIRY = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
THEIRS = (
    "# other tool\n[theirs]\naws_access_key_id = AKIAFAKEEXAMPLETHEIRS\naws_secret_access_key = FAKE1\n\n"
)
MANAGED = (
    "[s]\naws_access_key_id = ASIAFAKEEXAMPLEOLD\naws_secret_access_key = oldFAKE\n"
    "aws_session_token = oldTOKENFAKE\nx_stsdash_managed = true\n"
)
ADDED = "\n[added-meanwhile]\naws_access_key_id = AKIAFAKEEXAMPLEADDED\naws_secret_access_key = FAKE2\n"


def creds(tag: str = "NEW") -> Credentials:
    return Credentials(f"ASIAFAKEEXAMPLE{tag}", f"secretFAKE{tag}", f"tokenFAKE{tag}", EXPIRY)


def during_edit(monkeypatch: pytest.MonkeyPatch, action, times: int = 1) -> list[int]:
    """Run `action` while the writer is between its read and its replace (the first `times` edits)."""
    calls: list[int] = []
    real = iniedit.set_values

    def set_values(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            action(len(calls))
        return real(*args, **kwargs)

    monkeypatch.setattr(iniedit, "set_values", set_values)
    return calls


def test_an_update_made_without_a_lock_during_the_edit_survives(aws_home, monkeypatch) -> None:
    aws_home.write_credentials(THEIRS + MANAGED)
    path = aws_home.credentials

    def other_tool(_n: int) -> None:
        with path.open("a") as handle:  # appends without any lock, like many tools
            handle.write(ADDED)

    calls = during_edit(monkeypatch, other_tool)
    CredentialsWriter(path).write([SectionUpdate("s", creds())])
    assert len(calls) == 2  # read, edit, found the file changed: read again and redo
    text = path.read_text()
    assert text.startswith(THEIRS) and ADDED.strip() in text
    assert_resolves("s", creds())
    assert_resolves("added-meanwhile", Credentials("AKIAFAKEEXAMPLEADDED", "FAKE2", None, None))


def test_a_rewrite_in_place_caught_half_way_is_waited_for(aws_home, monkeypatch) -> None:
    aws_home.write_credentials(THEIRS + MANAGED)
    path = aws_home.credentials
    full = (THEIRS + MANAGED + ADDED).encode()
    waits: list[float] = []

    def truncate_and_start_writing(_n: int) -> None:
        with path.open("r+b") as handle:  # truncate, then the first chunk only
            handle.truncate(0)
            handle.write(full[:20])

    def the_tool_finishes(delay: float) -> None:
        waits.append(delay)
        path.write_bytes(full)

    during_edit(monkeypatch, truncate_and_start_writing)
    monkeypatch.setattr(guard, "pause", the_tool_finishes)
    CredentialsWriter(path).write([SectionUpdate("s", creds())])
    assert waits, "the writer waited for the half-written file instead of building on it"
    assert ADDED.strip() in path.read_text() and path.read_text().startswith(THEIRS)
    assert_resolves("s", creds())


def test_a_file_that_stays_a_prefix_is_refused_and_left_alone(aws_home, monkeypatch) -> None:
    aws_home.write_credentials(THEIRS + MANAGED)
    path = aws_home.credentials
    prefix = (THEIRS + MANAGED).encode()[:30]

    def truncate_and_stall(_n: int) -> None:
        path.write_bytes(prefix)

    waits: list[float] = []
    during_edit(monkeypatch, truncate_and_stall)
    monkeypatch.setattr(guard, "pause", waits.append)
    with pytest.raises(CredentialsWriteError, match="shrank to its first 30 bytes") as caught:
        CredentialsWriter(path).write([SectionUpdate("s", creds())])
    assert "Nothing was written" in str(caught.value)
    assert len(waits) == len(guard.PAUSES)
    assert path.read_bytes() == prefix  # the other tool's file, not stsdash's idea of it


def test_a_file_that_keeps_changing_is_given_up_on_with_a_message(aws_home, monkeypatch) -> None:
    aws_home.write_credentials(THEIRS + MANAGED)
    path = aws_home.credentials

    def append_comment(n: int) -> None:
        with path.open("a") as handle:
            handle.write(f"# change {n}\n")

    during_edit(monkeypatch, append_comment, times=guard.ATTEMPTS)
    with pytest.raises(CredentialsWriteError, match=f"changed {guard.ATTEMPTS} times"):
        CredentialsWriter(path).write([SectionUpdate("s", creds())])
    assert path.read_text() == THEIRS + MANAGED + "".join(f"# change {n}\n" for n in (1, 2, 3))


def test_the_same_parse_serves_check_and_write(aws_home, monkeypatch) -> None:
    from stsdash.awsfiles import snapshot

    aws_home.write_credentials(THEIRS + MANAGED)
    parses: list[int] = []
    real = snapshot.from_bytes
    monkeypatch.setattr(snapshot, "from_bytes", lambda *a: parses.append(1) or real(*a))
    writer = CredentialsWriter(aws_home.credentials)
    for _ in range(5):
        writer.check("s")
    writer.write([SectionUpdate("s", creds())])
    assert len(parses) == 1
    writer.check("s")  # the file changed (by us): parsed again
    assert len(parses) == 2


# --- owners, attributes, links -----------------------------------------------------------------------

needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
OTHER_UID = 4242


@needs_root
def test_another_users_file_is_refused_unless_allowed(aws_home, monkeypatch) -> None:
    aws_home.write_credentials(THEIRS + MANAGED)
    path = aws_home.credentials
    os.chown(path, OTHER_UID, OTHER_UID)
    before = path.read_bytes()
    monkeypatch.delenv(guard.ALLOW_OTHER_OWNER, raising=False)
    with pytest.raises(WriteRefused, match="belongs to another user") as caught:
        CredentialsWriter(path).write([SectionUpdate("s", creds())])
    assert guard.ALLOW_OTHER_OWNER in str(caught.value)
    assert path.read_bytes() == before

    monkeypatch.setenv(guard.ALLOW_OTHER_OWNER, "1")
    CredentialsWriter(path).write([SectionUpdate("s", creds())])
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (OTHER_UID, OTHER_UID)
    assert_resolves("s", creds())


@needs_root
def test_extended_attributes_and_mode_are_kept(aws_home, monkeypatch) -> None:
    aws_home.write_credentials(THEIRS + MANAGED)
    path = aws_home.credentials
    os.chmod(path, 0o640)
    try:
        os.setxattr(path, "user.stsdash-test", b"keep me")
    except OSError as exc:
        pytest.skip(f"no user xattrs on this filesystem: {exc}")
    CredentialsWriter(path).write([SectionUpdate("s", creds())])
    assert os.getxattr(path, "user.stsdash-test") == b"keep me"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@needs_root
def test_root_creating_the_file_in_another_users_directory_gives_it_to_them(aws_home, monkeypatch) -> None:
    directory = aws_home.root / "someone" / ".aws"
    directory.mkdir(parents=True)
    os.chown(directory, OTHER_UID, OTHER_UID)
    path = directory / "credentials"
    CredentialsWriter(path).write([SectionUpdate("s", creds())])
    st = path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (OTHER_UID, OTHER_UID, 0o600)


def test_a_hard_linked_file_is_refused_and_both_names_keep_their_bytes(aws_home) -> None:
    aws_home.write_credentials(THEIRS + MANAGED)
    path = aws_home.credentials
    other = aws_home.root / "credentials-hardlink"
    os.link(path, other)
    with pytest.raises(WriteRefused, match="2 hard links") as caught:
        CredentialsWriter(path).write([SectionUpdate("s", creds())])
    assert "symbolic link" in str(caught.value)
    assert path.read_text() == other.read_text() == THEIRS + MANAGED
    assert path.stat().st_ino == other.stat().st_ino


# --- the same for ~/.aws/config (sso sync's block) -------------------------------------------------


def test_a_config_update_made_without_a_lock_during_a_sync_survives(tmp_path) -> None:
    from stsdash.awsfiles import configblock

    path = tmp_path / "config"
    path.write_text("[default]\nregion = eu-west-1\n")
    builds: list[str] = []

    def build(outside: str) -> str:
        builds.append(outside)
        if len(builds) == 1:
            with path.open("a") as handle:  # another tool, no lock, while the block is being built
                handle.write("[profile added]\nregion = us-east-1\n")
        return "[profile synced]\nregion = eu-west-1\n"

    configblock.update_block(path, "corp", build)
    assert len(builds) == 2
    text = path.read_text()
    assert "[profile added]" in text and "[profile synced]" in text and text.startswith("[default]\n")


def test_a_hard_linked_config_is_refused(tmp_path) -> None:
    from stsdash.awsfiles import configblock

    path = tmp_path / "config"
    path.write_text("[default]\n")
    os.link(path, tmp_path / "config-link")
    with pytest.raises(WriteRefused, match="hard links"):
        configblock.update_block(path, "corp", lambda outside: "[profile a]\nregion = eu-west-1\n")
    assert path.read_text() == "[default]\n"
