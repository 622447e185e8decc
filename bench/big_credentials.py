"""How long a refresh's write takes on a very large ~/.aws/credentials, against listing the same file.

    python bench/big_credentials.py [--mb 50] [--runs 3]

Builds a credentials file of about `--mb` megabytes (long-term sections of other tools, one managed
section at the end and one in the middle), then times, in-process, median of `--runs`:
- `list`'s read of the file (`read_ini`, the parser `stsdash list` uses),
- `CredentialsWriter.write` of one section in the middle, one at the end and one new section.
Every write is checked: the file must still parse and hold the new keys.
With `--cli`, also whole processes: `stsdash list --json` against `stsdash refresh p`, where `p` is a
credential_process profile (no network), so the refresh is all file work.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stsdash.awsfiles.ini import read_ini
from stsdash.awsfiles.writer import CredentialsWriter, SectionUpdate
from stsdash.creds import Credentials

EXPIRY = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def managed(name: str) -> str:
    return (
        f"[{name}]\naws_access_key_id = ASIAFAKEEXAMPLEOLD\naws_secret_access_key = oldFAKE\n"
        "aws_session_token = oldTOKENFAKE\nx_stsdash_managed = true\n\n"
    )


def build(path: Path, megabytes: float) -> int:
    target = int(megabytes * 1_000_000)
    chunks: list[str] = []
    size = count = 0
    while size < target:
        if count == 100_000:
            chunks.append(managed("middle"))
        chunk = (
            f"# another tool's user {count}\n[user{count}]\n"
            f"aws_access_key_id = AKIAFAKEEXAMPLE{count:07d}\n"
            f"aws_secret_access_key = secretFAKE{count:032d}\n\n"
        )
        chunks.append(chunk)
        size += len(chunk)
        count += 1
    chunks.append(managed("last"))
    path.write_text("".join(chunks))
    return count


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cli", action="store_true", help="also time whole `list` and `refresh` processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "credentials"
        sections = build(path, args.mb)
        print(
            f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
            f"Python {platform.python_version()}, {platform.system()}"
        )
        print(f"# {path.stat().st_size / 1e6:.1f} MB, {sections} sections; median of {args.runs} runs")
        writer = CredentialsWriter(path)
        results: dict[str, list[float]] = {
            "list's read (read_ini)": [],
            "write [middle]": [],
            "write [last]": [],
            "write a new section": [],
        }
        for run in range(args.runs):
            results["list's read (read_ini)"].append(timed(lambda: read_ini(path)))
            for label, section in (
                ("write [middle]", "middle"),
                ("write [last]", "last"),
                ("write a new section", f"new{run}"),
            ):
                creds = Credentials(f"ASIAFAKEEXAMPLE{run:04d}", "secretFAKE", "tokenFAKE", EXPIRY)
                results[label].append(timed(lambda s=section, c=creds: writer.write([SectionUpdate(s, c)])))
                values = read_ini(path).sections[section].values
                assert values["aws_access_key_id"] == creds.access_key_id, label
        if args.cli:
            results |= cli_times(Path(tmp), path, args.runs)
        for label, times in results.items():
            print(f"{label:24s} {statistics.median(times):7.2f} s")
    return 0


def cli_times(tmp: Path, credentials: Path, runs: int) -> dict[str, list[float]]:
    """Whole processes against a local moto: `list --json`, and `refresh p` (AssumeRole from alice)."""
    from stsdash_demo.moto import MotoProcess, seed_moto

    moto = MotoProcess().start()
    try:
        seed = seed_moto(moto.url)
        with credentials.open("a") as handle:
            handle.write(
                f"\n[alice]\naws_access_key_id = {seed.access_key_id}\n"
                f"aws_secret_access_key = {seed.secret_access_key}\n"
            )
        config = tmp / "config"
        config.write_text(
            f"[profile p]\nrole_arn = {seed.role_arn('dev')}\nsource_profile = alice\nregion = us-east-1\n"
        )
        root = str(Path(__file__).resolve().parent.parent)
        env = {
            **os.environ,
            "HOME": str(tmp),
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_ENDPOINT_URL_STS": moto.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "STSDASH_CONFIG": str(tmp / "stsdash.toml"),
            "XDG_DATA_HOME": str(tmp / "xdg"),
            "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
            "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        out: dict[str, list[float]] = {"stsdash list --json": [], "stsdash refresh p": []}
        commands = {"stsdash list --json": ["list", "--json"], "stsdash refresh p": ["refresh", "p"]}
        for _ in range(runs):
            for label, argv in commands.items():
                started = time.perf_counter()
                prefix = os.environ.get("BENCH_PROFILE_PREFIX", "").split()
                command = [sys.executable, *prefix, "-m", "stsdash", *argv]
                proc = subprocess.run(command, env=env, capture_output=True)
                out[label].append(time.perf_counter() - started)
                assert proc.returncode == 0, (proc.stdout + proc.stderr).decode()[-800:]
        assert read_ini(credentials).sections["p-session"].values["aws_access_key_id"].startswith("ASIA")
        return out
    finally:
        moto.stop()


if __name__ == "__main__":
    raise SystemExit(main())
