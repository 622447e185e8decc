"""Refreshing many roles: RefreshEngine's bounded pool versus the same refreshes one after another.

Starts moto (IAM auth off unless --moto-auth) on 127.0.0.1 behind the loopback STS proxy (its own
process), which adds a fixed latency to every request (default 100 ms, a round trip to a far region).
A temp AWS home holds N role profiles (default 50) sourced from one IAM user. Both runs refresh all N
and write every target through CredentialsWriter; the only difference is `max_concurrency` (settings
default vs 1). On a small machine the concurrent time is bounded below by moto itself: its server is
threaded, but every request runs under one GIL, so the CPU it spends per call adds up whatever the
client does (about 6.5 ms per AssumeRole with auth on, on the 2-core CI machine).

    python bench/refresh.py                       # 50 roles, 100 ms, 3 runs each, median
    python bench/refresh.py --roles 200 --latency 0.05 --runs 5 --moto-auth
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsdash_demo.moto import MotoSeed

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

_SCRUB = ("AWS_", "STSDASH_", "PYTHON_KEYRING_BACKEND")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added per STS request")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=None, help="default: settings.max_concurrency")
    parser.add_argument(
        "--moto-auth",
        action="store_true",
        help="switch moto's IAM auth on (realistic signatures, but moto's policy evaluation then costs "
        "~50 ms of CPU per call and dominates on small machines)",
    )
    args = parser.parse_args(argv)

    from stsdash_demo.moto import MotoProcess, enable_moto_auth, seed_moto

    with tempfile.TemporaryDirectory(prefix="stsdash-bench-") as tmp:
        _isolate(Path(tmp))
        moto = MotoProcess().start()
        try:
            seed = seed_moto(moto.url)
            if args.moto_auth:
                enable_moto_auth(moto.url)
            proxy = _start_proxy(moto.url, args.latency, seed)
            try:
                os.environ["AWS_ENDPOINT_URL_STS"] = proxy.url
                names = _write_profiles(Path(tmp), seed, args.roles)
                from stsdash.settings import Settings

                default = Settings().max_concurrency if args.concurrency is None else args.concurrency
                concurrent = _time_runs(names, default, args.runs)
                sequential = _time_runs(names, 1, args.runs)
            finally:
                proxy.stop()
        finally:
            moto.stop()

    print(f"command:     {shlex.join([Path(sys.executable).name, 'bench/refresh.py', *sys.argv[1:]])}")
    system = f"{platform.system()} {platform.release()}"
    print(f"machine:     {platform.machine()}, {os.cpu_count()} CPUs, {system}, {_cpu_model()}")
    print(f"python:      {platform.python_version()} ({platform.python_implementation()})")
    print(f"workload:    {args.roles} AssumeRole refreshes, +{args.latency * 1000:.0f} ms per STS request, "
          f"median of {args.runs} runs, every target written and verified by the writer, "
          f"moto auth {'on' if args.moto_auth else 'off'}")
    print(f"concurrent:  {concurrent:7.2f} s  (RefreshEngine, max_concurrency={default})")
    print(f"sequential:  {sequential:7.2f} s  (same refreshes one after another, max_concurrency=1)")
    print(f"speed-up:    {sequential / concurrent:7.1f} x")
    return 0


_PROXY_CHILD = """
import sys, time
from stsdash_demo.stsproxy import StsProxy
upstream, latency, key_id = sys.argv[1], float(sys.argv[2]), sys.argv[3]
proxy = StsProxy(upstream, latency=latency)
proxy.register_key(key_id, sys.stdin.readline().strip())
proxy.start()
print(proxy.url, flush=True)
sys.stdin.read()  # until the parent closes our stdin
proxy.stop()
"""


class _ProxyProcess:
    """The proxy in its own process, so its threads do not share the benchmarked process's GIL."""

    def __init__(self, upstream: str, latency: float, seed: MotoSeed) -> None:
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, "-c", _PROXY_CHILD, upstream, str(latency), seed.access_key_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(HERE.parent),
        )
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(seed.secret_access_key + "\n")
        self.process.stdin.flush()
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise SystemExit("bench: the STS proxy did not start")

    def stop(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=10)


def _start_proxy(upstream: str, latency: float, seed: MotoSeed) -> _ProxyProcess:
    return _ProxyProcess(upstream, latency, seed)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _isolate(root: Path) -> None:
    for key in list(os.environ):
        if key.startswith(_SCRUB):
            del os.environ[key]
    home = root / "home"
    (home / ".aws").mkdir(parents=True)
    os.environ.update(
        {
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "STSDASH_CONFIG": str(root / "stsdash.toml"),
            "XDG_DATA_HOME": str(root / "xdg-data"),
            "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )


def _write_profiles(root: Path, seed: MotoSeed, count: int) -> list[str]:
    roles = sorted(seed.roles.items())
    usable = [arn for name, arn in roles if name not in ("locked",)]
    config = ["[profile iam]", "region = us-east-1", ""]
    names = []
    for i in range(count):
        name = f"role{i:03d}"
        names.append(name)
        config += [f"[profile {name}]", f"role_arn = {usable[i % len(usable)]}", "source_profile = iam",
                   "external_id = EXTID-TEST-1", "region = us-east-1", ""]
    aws = root / "home" / ".aws"
    (aws / "config").write_text("\n".join(config))
    creds = aws / "credentials"
    creds.write_text(f"[iam]\naws_access_key_id = {seed.access_key_id}\n"
                     f"aws_secret_access_key = {seed.secret_access_key}\n")
    creds.chmod(0o600)
    return names


def _time_runs(names: list[str], concurrency: int, runs: int) -> float:
    from stsdash.engine import RefreshEngine
    from stsdash.settings import Settings

    times = []
    for _ in range(runs):
        engine = RefreshEngine(settings=Settings(max_concurrency=concurrency))
        start = time.perf_counter()
        results = engine.refresh(names, code_provider=lambda request: None)
        times.append(time.perf_counter() - start)
        failed = [r for r in results if not r.ok]
        if failed:
            raise SystemExit(f"bench: {len(failed)} refreshes failed, first: {failed[0].error}")
        assert len(results) == len(names)
    return statistics.median(times)


if __name__ == "__main__":
    sys.exit(main())
