"""CredentialsWriter under failure: injected I/O errors, SIGKILL mid-write, and concurrent writers."""

from __future__ import annotations

import errno
import inspect
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.configloader
import pytest

from stsdash.awsfiles.writer import MANAGED_MARKER, CredentialsWriteError, CredentialsWriter, SectionUpdate
from stsdash.creds import Credentials
from tests.support.awsenv import resolved_credentials

REPO = Path(__file__).resolve().parent.parent
EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)

HEADER = (
    "# hand-written: keep me\n[default]\n"
    "aws_access_key_id = AKIAFAKEEXAMPLELONG1\naws_secret_access_key = sFAKE\n"
)


def gen_creds(section: str, n: int) -> Credentials:
    """Every value encodes (section, generation), so a torn or mixed write is detectable."""
    return Credentials(
        access_key_id=f"ASIAFAKE{section.upper()}{n:09d}",
        secret_access_key=f"secretFAKE{section}{n:09d}" * 2,
        session_token=f"tokenTEST{section}{n:09d}" * 20,
        expiration=EXPIRY + timedelta(seconds=n),
    )


def generation_of(section: str, values: dict[str, str]) -> int:
    """The generation a section holds; fails if its keys come from different generations."""
    n = int(values["aws_access_key_id"].removeprefix(f"ASIAFAKE{section.upper()}"))
    expected = gen_creds(section, n)
    assert values["aws_secret_access_key"] == expected.secret_access_key
    assert values["aws_session_token"] == expected.session_token
    assert values["aws_credential_expiration"] == (EXPIRY + timedelta(seconds=n)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert values[MANAGED_MARKER] == "true"
    assert "aws_security_token" not in values
    return n


def temp_files(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


# -- injected I/O errors --------------------------------------------------------------------------------


def _fail(exc: OSError):
    def raiser(*args, **kwargs):
        raise exc

    return raiser


@pytest.mark.parametrize(
    ("target", "name"),
    [
        (os, "fsync"),
        (os, "replace"),
        (tempfile, "mkstemp"),
    ],
)
@pytest.mark.parametrize("existing", [True, False])
def test_an_io_error_leaves_the_old_file_and_no_temp_file(
    aws_home, monkeypatch, target, name, existing
) -> None:
    if existing:
        aws_home.write_credentials(HEADER)
    before = aws_home.credentials.read_bytes() if existing else None
    with (
        monkeypatch.context() as patch,
        pytest.raises(CredentialsWriteError, match="No space left") as caught,
    ):
        patch.setattr(target, name, _fail(OSError(errno.ENOSPC, "No space left on device")))
        CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", gen_creds("s", 1))])
    assert str(aws_home.credentials) in str(caught.value) and "unchanged" in str(caught.value)
    assert (aws_home.credentials.read_bytes() if existing else None) == before
    assert aws_home.credentials.exists() == existing
    assert temp_files(aws_home.credentials.parent) == []
    # The next write works and produces the new credentials.
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", gen_creds("s", 2))])
    assert resolved_credentials("s").access_key == gen_creds("s", 2).access_key_id


def test_a_failed_data_write_leaves_the_old_file(aws_home, monkeypatch) -> None:
    """ENOSPC while writing the temp file's bytes (the buffered write flushes through os.fdopen's file)."""
    aws_home.write_credentials(HEADER)
    before = aws_home.credentials.read_bytes()
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle) -> None:
            self._handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self._handle.close()

        def fileno(self) -> int:
            return self._handle.fileno()

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self) -> None:
            self._handle.flush()

    with monkeypatch.context() as patch, pytest.raises(CredentialsWriteError, match="No space left"):
        patch.setattr(os, "fdopen", lambda fd, *a, **k: Full(real_fdopen(fd, *a, **k)))
        CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", gen_creds("s", 1))])
    assert aws_home.credentials.read_bytes() == before
    assert temp_files(aws_home.credentials.parent) == []


def test_orphaned_temp_files_from_a_killed_writer_are_cleaned_up(aws_home) -> None:
    aws_home.write_credentials(HEADER)
    orphan = aws_home.credentials.parent / ".credentials.ab_c1234.tmp"
    orphan.write_text("half a file")
    unrelated = aws_home.credentials.parent / ".config.ab_c1234.tmp"  # someone else's temp file
    unrelated.write_text("x")
    CredentialsWriter(aws_home.credentials).write([SectionUpdate("s", gen_creds("s", 1))])
    assert not orphan.exists()
    assert unrelated.exists()


# -- SIGKILL during writes ------------------------------------------------------------------------------

# Child processes get gen_creds' source rather than importing this module (pytest, botocore: slow).
PRELUDE = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from stsdash.awsfiles.writer import CredentialsWriter, SectionUpdate
    from stsdash.creds import Credentials
    EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)
    """
) + inspect.getsource(gen_creds)

CHILD = PRELUDE + textwrap.dedent(
    """
    path, n = Path(sys.argv[1]), int(sys.argv[2])
    writer = CredentialsWriter(path)
    first = True
    while True:
        pair = [SectionUpdate(name, gen_creds(name, n)) for name in ("alpha", "beta")]
        writer.write(pair)
        if first:
            print("ready", flush=True)
            first = False
        n += 1
    """
)


def test_sigkill_at_random_points_leaves_old_or_new_never_a_mix(aws_home) -> None:
    path = aws_home.credentials
    tail = "\n[zeta]\n; someone else's\noutput = json\n"
    aws_home.write_credentials(HEADER + tail)
    CredentialsWriter(path).write([SectionUpdate("alpha", gen_creds("alpha", 0)),
                                   SectionUpdate("beta", gen_creds("beta", 0))])  # fmt: skip
    rng = random.Random(1234)
    env = aws_home.subprocess_env(PYTHONPATH=str(REPO))
    last = 0
    generations: set[int] = set()
    kills = 0
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline and kills < 60:
        start = (kills + 1) * 1_000_000
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(start)],
            stdout=subprocess.PIPE, env=env, cwd=REPO,
        )  # fmt: skip
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready", "child writer did not start"
        time.sleep(rng.uniform(0, 0.03))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        kills += 1
        parsed = botocore.configloader.raw_config_parse(str(path))  # must parse after every kill
        assert list(parsed) == ["default", "zeta", "alpha", "beta"]
        alpha, beta = generation_of("alpha", parsed["alpha"]), generation_of("beta", parsed["beta"])
        assert alpha == beta, "one transaction wrote both sections"
        assert alpha >= start and alpha >= last
        last = alpha
        generations.add(alpha)
        text = path.read_text()
        assert text.startswith(HEADER + tail)
    assert kills >= 10
    assert len(generations) == kills  # every child got at least its first write in before dying
    # Temp files a killed writer left behind are removed by the next write, under the lock.
    CredentialsWriter(path).write([SectionUpdate("alpha", gen_creds("alpha", 1)),
                                   SectionUpdate("beta", gen_creds("beta", 1))])  # fmt: skip
    assert temp_files(path.parent) == []
    assert resolved_credentials("beta").token == gen_creds("beta", 1).session_token


# -- concurrency ----------------------------------------------------------------------------------------

WORKER = PRELUDE + textwrap.dedent(
    """
    path, section, rounds, start_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    writer = CredentialsWriter(path, lock_timeout=60)
    while time.time() < start_at:
        time.sleep(0.001)
    for n in range(1, rounds + 1):
        writer.write([SectionUpdate(section, gen_creds(section, n))])
    """
)


def test_eight_processes_writing_different_sections_lose_nothing(aws_home) -> None:
    path = aws_home.credentials
    aws_home.write_credentials(HEADER)
    env = aws_home.subprocess_env(PYTHONPATH=str(REPO))
    rounds = 10
    start_at = time.time() + 1.5  # let every interpreter start, then all write at once
    sections = [f"worker-{i}" for i in range(8)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), name, str(rounds), str(start_at)], env=env, cwd=REPO
        )
        for name in sections
    ]
    for child in children:
        assert child.wait(timeout=60) == 0
    parsed = botocore.configloader.raw_config_parse(str(path))
    assert next(iter(parsed)) == "default" and sorted(parsed) == sorted(["default", *sections])
    for name in sections:
        assert generation_of(name, parsed[name]) == rounds
    assert path.read_text().startswith(HEADER)
    assert temp_files(path.parent) == []


def test_threads_in_one_process_writing_different_sections_lose_nothing(aws_home) -> None:
    path = aws_home.credentials
    aws_home.write_credentials(HEADER)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            writer = CredentialsWriter(path)  # one writer each, like independent refreshes
            barrier.wait()
            for n in range(1, 6):
                writer.write([SectionUpdate(name, gen_creds(name, n))])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    parsed = botocore.configloader.raw_config_parse(str(path))
    for i in range(8):
        assert generation_of(f"t{i}", parsed[f"t{i}"]) == 5
