"""Dashboard benchmark: from process start to a populated table, side by side with a stock DataTable and
a bare Textual app; RSS; filter keystrokes; idle CPU with ticking rows and the file watcher on.

    python bench/tui.py [--counts 1000,5000,20000] [--idle-seconds 10] [--runs 1]

Every measurement is a fresh Python process (`--child`), timed from just before it is spawned (so the
interpreter start and every import count), headless at 120x40, in a temporary home; nothing touches
the network. Variants:
  stsdash    the real app (real engine, real file reading, file watcher on)
  datatable  a Textual app with a stock DataTable given the same rows (8 text columns) with add_rows
  bare       a Textual app with an empty DataTable: the floor any Textual app pays
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SIZE = (120, 40)
ROOT = Path(__file__).resolve().parent.parent


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
        "XDG_RUNTIME_DIR": str(root / "run"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- the child: one variant, one process ----------------------------------------------------------
async def child_stsdash(count: int, started: float, idle: float, keys: str) -> dict:
    from stsdash.engine import RefreshEngine
    from stsdash.settings import load_settings
    from stsdash.ui.app import StsdashApp

    settings = load_settings()
    app = StsdashApp(engine=RefreshEngine(settings=settings), sso=None, settings=settings, watch_files=True)
    out: dict = {}
    async with app.run_test(size=SIZE) as pilot:
        await app.loaded.wait()
        table = app.dashboard.profile_table
        while table.row_count < count + 1:
            await asyncio.sleep(0.002)
        await pilot.pause()  # the first frame with the rows on it
        out["populated"] = time.time() - started
        out["rss"] = rss_mb()
        if keys:
            await pilot.press("slash")
            await pilot.pause()
            times = []
            for key in keys:
                t0 = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()  # the frame that shows the matches
                times.append(time.perf_counter() - t0)
            out["keystrokes"] = times
            out["matches"] = table.row_count
            await pilot.press("escape")
            await pilot.pause()
        if idle:
            await pilot.pause(1.0)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(idle)
            out["idle_cpu"] = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    return out


async def child_textual(count: int, started: float, stock_rows: bool) -> dict:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Stock(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Profile", "Status", "Target", "Kind", "Region", "Account", "Role")
            if stock_rows:
                table.add_rows([(f"role-{i:05d}", "59m 58s", f"role-{i:05d}-session", "assume-role",
                                 "eu-west-1", str(100000000000 + i), "Bench ← base") for i in range(count)])

    app = Stock()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        while stock_rows and table.row_count < count:
            await asyncio.sleep(0.002)
        await pilot.pause()
        return {"populated": time.time() - started, "rss": rss_mb()}


def child(args: argparse.Namespace) -> int:
    started = float(os.environ["BENCH_STARTED"])
    if args.child == "stsdash":
        result = asyncio.run(child_stsdash(args.count, started, args.idle_seconds, args.keys))
    else:
        result = asyncio.run(child_textual(args.count, started, args.child == "datatable"))
    print(json.dumps(result))
    return 0


# ---- the parent: a fresh process per measurement ------------------------------------------------
def spawn(variant: str, count: int, env: dict[str, str], *extra: str) -> dict:
    full = {**os.environ, **env, "BENCH_STARTED": repr(time.time()), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, __file__, "--child", variant, "--count", str(count), *extra],
                          env=full, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{variant} at {count} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,5000,20000")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", choices=("stsdash", "datatable", "bare"))
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--keys", default="")
    args = parser.parse_args()
    if args.child:
        return child(args)
    print(f"{'profiles':>8}  {'bare Textual':>12}  {'stock DataTable':>16}  {'stsdash':>16}  "
          "filter keystroke")
    for count in (int(c) for c in args.counts.split(",")):
        with tempfile.TemporaryDirectory(prefix="stsdash-bench-") as tmp:
            env = write_home(Path(tmp), count, datetime.now(UTC))
            for _ in range(args.runs):
                bare = spawn("bare", count, env)
                stock = spawn("datatable", count, env)
                keys = "role-1999" if count >= 2000 else "role-99"
                idle = args.idle_seconds if count == 1000 else 0
                ours = spawn("stsdash", count, env, "--keys", keys, "--idle-seconds", str(idle))
                worst = max(ours["keystrokes"]) * 1000
                print(f"{count:>8}  {bare['populated']:>10.2f} s  "
                      f"{stock['populated']:>6.2f} s {stock['rss']:>4.0f} MB  "
                      f"{ours['populated']:>6.2f} s {ours['rss']:>4.0f} MB  "
                      f"worst {worst:.0f} ms over {len(keys)} keys ({ours['matches']} matches)")
                if "idle_cpu" in ours:
                    print(f"{'':>8}  idle, {count} rows ticking, file watcher on: "
                          f"{ours['idle_cpu'] * 100:.2f}% of a core over {idle:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
