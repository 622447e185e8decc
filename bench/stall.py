"""How long the dashboard's event loop ever stalls while 50 refreshes land.

The real app, engine and writer against the demo's emulators (moto behind the STS proxy, 150 ms of
latency per call). A 20 ms timer on the dashboard records how late each callback fires; the worst
lateness is what a user would feel as a key that does not answer. Issue goal: no stall over 50 ms.

    python bench/stall.py                 # 3 runs, 50 roles
    python bench/stall.py --runs 5 --roles 100
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from pathlib import Path

START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TICK = 0.02


def extra_roles(count: int) -> str:
    return "".join(
        f"\n[profile load-{i:03d}]\nrole_arn = arn:aws:iam::{900000000000 + i}:role/Load\n"
        "source_profile = loader\nregion = eu-west-1\n"
        for i in range(count)
    )


async def one_run(roles: int) -> tuple[float, float, int]:
    from stsdash_demo.runner import applied_env, build_app, demo_environment

    with demo_environment(approve_after=None, sso_login=False) as demo, applied_env(demo.env):
        with demo.config.open("a") as config:
            config.write("\n[profile loader]\nregion = eu-west-1\n" + extra_roles(roles))
        with demo.credentials.open("a") as credentials:
            credentials.write("\n[loader]\naws_access_key_id = AKIAEXAMPLELOADER001\n"
                              "aws_secret_access_key = loaderEXAMPLEsecretNOTreal0000000000000\n")
        demo.proxy.latency = 0.15
        app = build_app(watch_files=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await app.loaded.wait()
            await pilot.pause(1.0)  # the first paint is start-up, not the refresh under test
            dashboard = app.dashboard
            names = [f"load-{i:03d}" for i in range(roles)]
            stamps: list[float] = []
            timer = dashboard.set_interval(TICK, lambda: stamps.append(time.perf_counter()))
            started = time.perf_counter()
            dashboard.start_refresh(names)
            table = dashboard.profile_table
            while not all(table.get_cell(n, "result")[0].startswith(("✓", "✗")) for n in names):
                await asyncio.sleep(0.05)
            await app.workers.wait_for_complete()
            elapsed = time.perf_counter() - started
            timer.stop()
            ok = sum(table.get_cell(n, "result")[0].startswith("✓") for n in names)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    return max(gaps) - TICK, elapsed, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--roles", type=int, default=50)
    args = parser.parse_args()
    from list_profiles import machine_info  # type: ignore[import-not-found]

    worst, took = [], []
    for _ in range(args.runs):
        stall, elapsed, ok = asyncio.run(one_run(args.roles))
        if ok != args.roles:
            raise SystemExit(f"only {ok}/{args.roles} refreshed")
        worst.append(stall * 1000)
        took.append(elapsed)
    print(f"Machine: {machine_info()}")
    print(f"{args.roles} refreshes landing, {args.runs} runs: worst event-loop stall per run "
          f"{', '.join(f'{w:.0f}' for w in worst)} ms (median {statistics.median(worst):.0f} ms); "
          f"refresh {statistics.median(took):.2f} s; whole process {time.perf_counter() - START:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
