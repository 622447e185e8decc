"""Dashboard benchmark: launch to a fully populated table, and idle CPU with ticking rows.

    python bench/tui.py [--idle-seconds 15]

Runs the real app (real engine, real file reading) headless in a temporary home; nothing touches the
network. Idle CPU is measured over --idle-seconds and extrapolated to a minute (printed as such).

"Launch" is from creating the app to the first frame drawn with every row in the table, inside one
Python process that has already imported Textual for the previous size (the 10-profile run pays the
imports). Memory is the process's resident set once the table is populated (and its peak so far).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SIZE = (120, 40)


def write_home(root: Path, count: int, now: datetime) -> dict[str, str]:
    aws = root / "home" / ".aws"
    (aws / "sso" / "cache").mkdir(parents=True)
    config = ["[profile base]\nregion = eu-west-1\n"]
    creds = ["[base]\naws_access_key_id = AKIAEXAMPLEBENCH0001\n"
             "aws_secret_access_key = benchEXAMPLEsecretNOTreal000000000000000\n"]
    for i in range(count):
        config.append(f"\n[profile role-{i:05d}]\nrole_arn = arn:aws:iam::{100000000000 + i}:role/Bench\n"
                      "source_profile = base\nregion = eu-west-1\n")
        # Every row under an hour: its countdown shows seconds, so every row ticks every second.
        expires = now + timedelta(seconds=120 + (i * 7) % 3400)
        creds.append(f"\n[role-{i:05d}-session]\naws_access_key_id = ASIAEXAMPLE{i:09d}\n"
                     f"aws_secret_access_key = benchEXAMPLEsessionSECRET{i:09d}\n"
                     f"aws_session_token = benchEXAMPLEtoken{i:09d}\n"
                     f"aws_credential_expiration = {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
                     "x_stsdash_managed = true\n")
    (aws / "config").write_text("".join(config))
    (aws / "credentials").write_text("".join(creds))
    os.chmod(aws / "credentials", 0o600)
    return {
        "HOME": str(root / "home"),
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "STSDASH_CONFIG": str(root / "config.toml"),
        "XDG_DATA_HOME": str(root / "xdg-data"),
        "PYTHON_KEYRING_BACKEND": "stsdash_demo.runner.DemoKeyring",
    }


def rss_mb() -> tuple[float, float]:
    """Resident memory now and at its peak, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024, peak
    except OSError:
        pass
    return peak, peak


def make_app():
    from stsdash.engine import RefreshEngine
    from stsdash.settings import load_settings
    from stsdash.ui.app import StsdashApp

    settings = load_settings()
    return StsdashApp(engine=RefreshEngine(settings=settings), sso=None, settings=settings,
                      watch_files=False)


async def launch(count: int, idle_seconds: float | None) -> tuple[float, float | None, tuple[float, float]]:
    started = time.perf_counter()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.loaded.wait()
        table = app.dashboard.profile_table
        while table.row_count < count + 1:  # + the source profile
            await asyncio.sleep(0.005)
        await pilot.pause()  # the first frame with the rows on it
        populated = time.perf_counter() - started
        memory = rss_mb()
        if idle_seconds is None:
            return populated, None, memory
        await pilot.pause(1.0)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(idle_seconds)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        return populated, cpu / wall * 60.0, memory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    args = parser.parse_args()
    for count in (10, 1000, 5000):
        with tempfile.TemporaryDirectory(prefix="stsdash-bench-") as tmp:
            saved = dict(os.environ)
            os.environ.update(write_home(Path(tmp), count, datetime.now(UTC)))
            try:
                idle = args.idle_seconds if count == 1000 else None
                populated, cpu_per_minute, (rss, peak) = asyncio.run(launch(count, idle))
            finally:
                os.environ.clear()
                os.environ.update(saved)
        print(f"{count:>5} profiles: launch to populated table {populated * 1000:7.0f} ms, "
              f"RSS {rss:.0f} MB (peak {peak:.0f} MB)")
        if cpu_per_minute is not None:
            print(f"{count:>5} profiles ticking, idle: {cpu_per_minute:.1f} CPU-seconds per minute "
                  f"(measured over {args.idle_seconds:.0f} s, extrapolated to 60 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
