"""How long `stsdash prompt` takes, next to `python -c pass` (the goal: within 2x).

A shell runs the prompt command before every prompt, so its cost is process start-up plus whatever it
imports and reads. Runs alternate between the two commands (so load on the machine hits both alike)
and the medians are compared. The AWS home is a temporary one with PROFILES role profiles and their
session sections.

    python bench/prompt.py [--runs 40] [--profiles 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def make_home(root: Path, profiles: int) -> dict[str, str]:
    aws = root / ".aws"
    aws.mkdir(parents=True)
    expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    config = ["[profile base]\nregion = us-east-1\n"]
    creds = ["[base]\naws_access_key_id = AKIAFAKEEXAMPLE\naws_secret_access_key = FAKE-EXAMPLE\n"]
    for n in range(profiles):
        config.append(f"[profile p{n}]\nrole_arn = arn:aws:iam::123456789012:role/r{n}\n"
                      "source_profile = base\nregion = us-east-1\n")
        creds.append(f"[p{n}-session]\naws_access_key_id = ASIAFAKEEXAMPLE\naws_secret_access_key = FAKE\n"
                     f"aws_session_token = FAKE-TOKEN\naws_credential_expiration = {expires}\n"
                     "x_stsdash_managed = true\n")
    (aws / "config").write_text("\n".join(config))
    (aws / "credentials").write_text("\n".join(creds))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STSDASH_"))}
    env.update(HOME=str(root), AWS_PROFILE=f"p{profiles // 2}", STSDASH_CONFIG=str(root / "none.toml"))
    return env


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU user+sys) seconds of one run; CPU time is what load on the machine disturbs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--profiles", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = make_home(Path(tmp), args.profiles)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            # what the installed `stsdash` console script runs
            "stsdash prompt": [sys.executable, "-c",
                               "import sys; from stsdash.cli import main; sys.exit(main(['prompt']))"],
            "python -m stsdash prompt": [sys.executable, "-m", "stsdash", "prompt"],
        }
        print("output:", subprocess.run(commands["stsdash prompt"], env=env, capture_output=True,
                                        text=True).stdout.strip())
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for argv in commands.values():  # warm the file cache
            timed(argv, env)
        for _ in range(args.runs):
            for name, argv in commands.items():
                times[name].append(timed(argv, env))
    base = statistics.median(t[0] for t in times["python -c pass"])
    base_cpu = statistics.median(t[1] for t in times["python -c pass"])
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()}; {args.runs} runs each, "
          f"{args.profiles} profiles")
    for name, values in times.items():
        wall = statistics.median(t[0] for t in values)
        cpu = statistics.median(t[1] for t in values)
        print(f"{name:26} wall {wall * 1000:6.1f} ms ({wall / base:.2f}x)   "
              f"CPU {cpu * 1000:6.1f} ms ({cpu / base_cpu:.2f}x python -c pass)")


if __name__ == "__main__":
    main()
