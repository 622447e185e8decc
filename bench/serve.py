"""The credential server under load: 100 concurrent requests answered from its cache.

A temp AWS home holds a role profile whose target section has fresh credentials, so `stsdash serve`
(a real child process) answers from memory and never calls STS. N client threads (default 100) wait at
a barrier, then each opens its own connection and sends one authorized GET, the way N SDKs starting at
once would. Reported: per-request latency (p50, p95, max) over all rounds, and the wall time of a round.

    python bench/serve.py                      # 100 concurrent requests, 20 rounds
    python bench/serve.py --clients 200 --rounds 50
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)

    from stsdash_demo.home import SCRUB_PREFIXES, make_aws_home

    with tempfile.TemporaryDirectory(prefix="sdb") as tmp:
        home = make_aws_home(Path(tmp))
        expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        Path(home.env["AWS_CONFIG_FILE"]).write_text(
            "[profile user]\nregion = us-east-1\n\n"
            "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = user\n"
            "region = us-east-1\n"
        )
        Path(home.env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
            "[user]\naws_access_key_id = AKIAEXAMPLEBENCHUSER\naws_secret_access_key = EXAMPLEbenchSECRET\n\n"
            "[dev-session]\naws_access_key_id = ASIAEXAMPLEBENCHDEV\naws_secret_access_key = EXAMPLEsecret\n"
            f"aws_session_token = EXAMPLEtoken\naws_credential_expiration = {expires}\n"
            "x_stsdash_managed = true\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB_PREFIXES)}
        env.update(home.env, PYTHONPATH=str(HERE.parent))
        server = subprocess.Popen(
            [sys.executable, "-m", "stsdash", "serve", "dev"], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        try:
            exports = read_exports(server)
            latencies, walls = run_rounds(exports, args.clients, args.rounds)
        finally:
            server.terminate()
            server.wait(timeout=10)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.clients} concurrent requests x {args.rounds} rounds, answered from the server's cache")
    print(f"per request: p50 {ms(statistics.median(latencies))}, p95 {ms(p95)}, max {ms(latencies[-1])}")
    print(f"per round of {args.clients}: median {ms(statistics.median(walls))}, max {ms(max(walls))}")
    return 0


def read_exports(server: subprocess.Popen) -> dict[str, str]:
    exports: dict[str, str] = {}
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("# serving"):
            return exports
        key, _, value = line.removeprefix("export ").strip().partition("=")
        exports[key] = value.strip("'")
    raise SystemExit("stsdash serve did not start")


def run_rounds(exports: dict[str, str], clients: int, rounds: int) -> tuple[list[float], list[float]]:
    url = urlsplit(exports["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    token = exports["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    latencies: list[float] = []
    walls: list[float] = []
    lock = threading.Lock()
    for _ in range(rounds):
        barrier = threading.Barrier(clients + 1)

        def one(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            start = time.perf_counter()
            conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
            conn.request("GET", url.path, headers={"Authorization": token})
            reply = conn.getresponse()
            body = json.loads(reply.read())
            conn.close()
            elapsed = time.perf_counter() - start
            assert reply.status == 200 and body["AccessKeyId"] == "ASIAEXAMPLEBENCHDEV"
            with lock:
                latencies.append(elapsed)

        threads = [threading.Thread(target=one) for _ in range(clients)]
        for thread in threads:
            thread.start()
        barrier.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        walls.append(time.perf_counter() - start)
    return latencies, walls


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


if __name__ == "__main__":
    raise SystemExit(main())
