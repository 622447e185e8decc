"""Refreshing 50 roles behind one MFA device, 100 ms of added latency per STS request.

Side by side in one run, each in a fresh temporary AWS home, against moto (IAM auth on) behind the
stsdash STS proxy (`stsdash_demo.stsproxy`), which adds the latency, enforces single-use MFA codes and
counts every call and every code:

- stsdash: `stsdash refresh role-00 ... role-49 --code NNNNNN` (one process, concurrent, one code),
  and the same through `RefreshEngine.refresh()` in-process;
- botocore: what botocore does for a profile with `role_arn` + `mfa_serial`: one role at a time,
  AssumeRole with SerialNumber + TokenCode, a new code for each (botocore's own AssumeRoleProvider with
  its MFA prompter answered by the benchmark);
- botocore, the fair baseline a competent user would write: one GetSessionToken with the MFA code, then
  AssumeRole for every role with those session credentials on a thread pool as wide as stsdash's
  default (32), one shared client (botocore clients are thread-safe). It writes no files, which
  favours it;
- all of them again for one role, the "single refresh" the goal is measured against.

The in-process ways run in a warm child process (modules imported first, only the refresh timed):
the proxy's threads live in this process, and sharing a GIL with them would charge their CPU to the
code being measured. `--shared-gil` runs them here instead, as earlier versions of this script did.

    python bench/compare_refresh.py                  # 50 roles, 100 ms, median of 3 runs
    python bench/compare_refresh.py --roles 20 --latency 0.05 --runs 5
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shlex
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stsdash_demo.home import AwsHome, make_aws_home  # noqa: E402
from stsdash_demo.moto import (  # noqa: E402
    MotoProcess,
    MotoSeed,
    enable_moto_auth,
    iam_call,
    seed_moto,
)
from stsdash_demo.stsproxy import StsProxy  # noqa: E402

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
ALLOW = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


def trust(principal: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@dataclass
class Outcome:
    """One measured run."""

    seconds: float
    codes: int  # TokenCodes that reached STS
    calls: int  # STS requests
    prompts: int  # codes the user had to type
    ok: int
    process_seconds: float | None = None  # from process start to exit (None: timed in this process)


@dataclass
class Row:
    name: str
    command: str
    runs: list[Outcome] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(o.seconds for o in self.runs)

    def process_median(self) -> float | None:
        values = [o.process_seconds for o in self.runs if o.process_seconds is not None]
        return statistics.median(values) if values else None


class Codes:
    """Fresh 6-digit codes, never reused (the proxy rejects a reused code, like STS)."""

    def __init__(self) -> None:
        self._next = itertools.count(100000)

    def __call__(self, *_args: object) -> str:
        return f"{next(self._next) % 1000000:06d}"


def create_roles(moto_url: str, seed: MotoSeed, count: int) -> list[str]:
    """`count` extra roles trusting alice (moto auth must still be off)."""
    arns = []
    for i in range(count):
        name = f"bench-{i:02d}"
        iam_call(
            moto_url,
            "CreateRole",
            RoleName=name,
            AssumeRolePolicyDocument=trust(seed.user_arn),
            MaxSessionDuration="3600",
        )
        iam_call(moto_url, "PutRolePolicy", RoleName=name, PolicyName="all", PolicyDocument=ALLOW)
        arns.append(f"arn:aws:iam::{seed.account}:role/{name}")
    return arns


def write_home(
    root: Path, seed: MotoSeed, arns: list[str], proxy_url: str, concurrency: int | None = None
) -> AwsHome:
    """alice's long-term keys + mfa_serial, and one profile per role, each needing her MFA."""
    home = make_aws_home(root)
    config = ["[profile alice]", "region = us-east-1", f"mfa_serial = {SERIAL}", ""]
    for i, arn in enumerate(arns):
        config += [
            f"[profile role-{i:02d}]",
            f"role_arn = {arn}",
            "source_profile = alice",
            f"mfa_serial = {SERIAL}",
            "region = us-east-1",
            "",
        ]
    home.write_config("\n".join(config))
    keys = f"aws_access_key_id = {seed.access_key_id}\naws_secret_access_key = {seed.secret_access_key}\n"
    home.write_credentials("[alice]\n" + keys)
    home.env["AWS_ENDPOINT_URL_STS"] = proxy_url
    if concurrency is not None:
        home.settings.parent.mkdir(parents=True, exist_ok=True)
        home.settings.write_text(f"max_concurrency = {concurrency}\n")
    return home


@contextlib.contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _counts(proxy: StsProxy) -> tuple[int, int]:
    return sum(proxy.token_calls.values()), sum(proxy.calls.values())


def stsdash_argv() -> list[str]:
    script = Path(sysconfig.get_path("scripts")) / "stsdash"
    return [str(script)] if script.exists() else [sys.executable, "-m", "stsdash"]


def run_stsdash_cli(home: AwsHome, proxy: StsProxy, names: list[str]) -> Outcome:
    argv = [*stsdash_argv(), "refresh", *names, "--code", Codes()(), "--json"]
    start = time.perf_counter()
    proc = subprocess.run(
        argv, env=home.subprocess_env(), capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"stsdash refresh exited {proc.returncode}: {proc.stderr.strip()[-500:]}")

    ok = sum(1 for r in json.loads(proc.stdout) if r["ok"])
    codes, calls = _counts(proxy)
    return Outcome(elapsed, codes, calls, 1, ok, elapsed)


def _child_outcome(kind: str, home: AwsHome, proxy: StsProxy, names: list[str]) -> Outcome:
    """Run an in-process way in a child process: the proxy's threads live in this process, and
    sharing one GIL with them would charge the proxy's CPU to the code being measured. The child
    imports everything first and times only the refresh itself, so it is as warm as in-process."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", kind, *names]
    start = time.perf_counter()
    proc = subprocess.run(
        argv, env=home.subprocess_env(), capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} child exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    whole = time.perf_counter() - start
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    codes_sent, calls = _counts(proxy)
    return Outcome(data["seconds"], codes_sent, calls, data["prompts"], data["ok"], whole)


def run_stsdash_engine_child(home: AwsHome, proxy: StsProxy, names: list[str]) -> Outcome:
    return _child_outcome("engine", home, proxy, names)


def run_botocore_child(home: AwsHome, proxy: StsProxy, names: list[str]) -> Outcome:
    return _child_outcome("botocore", home, proxy, names)


def child_main(kind: str, names: list[str]) -> int:
    """`--child engine|botocore NAME...`: time one in-process run here, print it as JSON."""
    if kind == "engine":
        import keyring

        # Imported before the clock starts, as they are in a process that has refreshed before.
        import stsdash.awsfiles.writer
        import stsdash.profiles
        import stsdash.providers.endpoints
        import stsdash.providers.sts
        import stsdash.secrets  # noqa: F401

        keyring.get_keyring()
        outcome = run_stsdash_engine(None, None, names)
    elif kind == "botocore-pool":
        import botocore.config
        import botocore.session

        outcome = run_botocore_pool(None, None, names)
    else:
        import botocore.session  # noqa: F401  (before the clock starts)

        outcome = run_botocore(None, None, names)
    print(json.dumps({"seconds": outcome.seconds, "prompts": outcome.prompts, "ok": outcome.ok}))
    return 0


def run_stsdash_engine(home: AwsHome | None, proxy: StsProxy | None, names: list[str]) -> Outcome:
    import keyring.core

    from stsdash.engine import RefreshEngine

    codes = Codes()
    prompts = 0

    def provider(_request: object) -> str:
        nonlocal prompts
        prompts += 1
        return codes()

    with environ(home.subprocess_env()) if home else contextlib.nullcontext():
        if home:
            keyring.core.init_backend()  # re-read PYTHON_KEYRING_BACKEND for this home
        start = time.perf_counter()
        results = RefreshEngine().refresh(names, code_provider=provider)
        elapsed = time.perf_counter() - start
    codes_sent, calls = _counts(proxy) if proxy else (0, 0)
    return Outcome(elapsed, codes_sent, calls, prompts, sum(r.ok for r in results))


def run_botocore(home: AwsHome | None, proxy: StsProxy | None, names: list[str]) -> Outcome:
    """botocore's AssumeRoleProvider per profile, one after the other, prompting for a code each time."""
    import botocore.session

    codes = Codes()
    prompts = 0

    def prompter(_prompt: str) -> str:
        nonlocal prompts
        prompts += 1
        return codes()

    ok = 0
    with environ(home.subprocess_env()) if home else contextlib.nullcontext():
        start = time.perf_counter()
        for name in names:
            session = botocore.session.Session(profile=name)
            resolver = session.get_component("credential_provider")
            resolver.get_provider("assume-role")._prompter = prompter
            creds = session.get_credentials()
            if creds is not None and creds.get_frozen_credentials().token:
                ok += 1
        elapsed = time.perf_counter() - start
    codes_sent, calls = _counts(proxy) if proxy else (0, 0)
    return Outcome(elapsed, codes_sent, calls, prompts, ok)


POOL_WIDTH = 32  # stsdash's default max_concurrency


def run_botocore_pool(home: AwsHome | None, proxy: StsProxy | None, names: list[str]) -> Outcome:
    """One MFA session, then every AssumeRole on a thread pool: what a competent user would script."""
    from concurrent.futures import ThreadPoolExecutor

    import botocore.config
    import botocore.session

    codes = Codes()
    with environ(home.subprocess_env()) if home else contextlib.nullcontext():
        start = time.perf_counter()
        session = botocore.session.Session(profile="alice")
        profiles = session.full_config["profiles"]
        arns = [profiles[name]["role_arn"] for name in names]
        config = botocore.config.Config(max_pool_connections=POOL_WIDTH)
        sts = session.create_client("sts", config=config)
        mfa = sts.get_session_token(SerialNumber=SERIAL, TokenCode=codes())["Credentials"]
        roles = session.create_client(
            "sts",
            config=config,
            aws_access_key_id=mfa["AccessKeyId"],
            aws_secret_access_key=mfa["SecretAccessKey"],
            aws_session_token=mfa["SessionToken"],
        )

        def assume(arn: str) -> bool:
            answer = roles.assume_role(RoleArn=arn, RoleSessionName="bench")
            return bool(answer["Credentials"]["SessionToken"])

        with ThreadPoolExecutor(POOL_WIDTH) as pool:
            ok = sum(pool.map(assume, arns))
        elapsed = time.perf_counter() - start
    codes_sent, calls = _counts(proxy) if proxy else (0, 0)
    return Outcome(elapsed, codes_sent, calls, 1, ok)


def run_botocore_pool_child(home: AwsHome, proxy: StsProxy, names: list[str]) -> Outcome:
    return _child_outcome("botocore-pool", home, proxy, names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roles", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every STS request")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per cell (median)")
    parser.add_argument("--concurrency", type=int, help="stsdash max_concurrency (default: its own default)")
    parser.add_argument(
        "--shared-gil",
        action="store_true",
        help="run the in-process ways in this process, next to the proxy's threads (the old setup: the "
        "proxy's CPU then competes with the code measured)",
    )
    parser.add_argument("--child", choices=("engine", "botocore", "botocore-pool"), help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.child:
        return child_main(args.child, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")

    moto = MotoProcess().start()
    try:
        seed = seed_moto(moto.url)
        arns = create_roles(moto.url, seed, args.roles)
        enable_moto_auth(moto.url)
        with StsProxy(moto.url) as proxy, tempfile.TemporaryDirectory(prefix="stsdash-bench-") as tmp:
            proxy.register_key(seed.access_key_id, seed.secret_access_key)
            names = [f"role-{i:02d}" for i in range(args.roles)]
            ways: list[tuple[Row, Callable[[AwsHome, StsProxy, list[str]], Outcome], list[str]]] = []
            cli = shlex.join(
                [
                    *stsdash_argv(),
                    "refresh",
                    "role-00",
                    "...",
                    f"role-{args.roles - 1:02d}",
                    "--code",
                    "NNNNNN",
                ]
            )
            engine_fn = run_stsdash_engine if args.shared_gil else run_stsdash_engine_child
            botocore_fn = run_botocore if args.shared_gil else run_botocore_child
            pool_fn = run_botocore_pool if args.shared_gil else run_botocore_pool_child
            for label, fn in (
                ("stsdash refresh (CLI process)", run_stsdash_cli),
                ("stsdash RefreshEngine.refresh (in-process)", engine_fn),
                ("botocore, one MFA session + thread pool (in-process, fair baseline)", pool_fn),
                ("botocore, one role at a time, a code each (in-process)", botocore_fn),
            ):
                command = cli if fn is run_stsdash_cli else label
                ways.append((Row(f"{label}, {args.roles} roles", command), fn, names))
                ways.append(
                    (
                        Row(f"{label}, 1 role", command.replace(f" ... role-{args.roles - 1:02d}", "")),
                        fn,
                        names[:1],
                    )
                )
            counter = itertools.count()
            for _ in range(args.runs + 1):  # first round is a warm-up
                for row, fn, subset in ways:
                    home = write_home(
                        Path(tmp) / f"h{next(counter)}", seed, arns, proxy.url, args.concurrency
                    )
                    proxy.reset()
                    proxy.latency = args.latency
                    proxy.mfa_serials = {SERIAL}
                    for arn in arns:
                        proxy.require_mfa(arn)
                    outcome = fn(home, proxy, subset)
                    if outcome.ok != len(subset):
                        raise RuntimeError(f"{row.name}: only {outcome.ok}/{len(subset)} refreshed")
                    row.runs.append(outcome)
            for row, _, _ in ways:
                del row.runs[0]
            print(report([w[0] for w in ways], args))
    finally:
        moto.stop()
    return 0


def report(rows: list[Row], args: argparse.Namespace) -> str:
    from list_profiles import machine_info  # type: ignore[import-not-found]

    out = ["## Refreshing roles behind one MFA device", ""]
    out.append(f"Machine: {machine_info()}  ")
    out.append(
        f"{args.roles} roles, each requiring MFA; {int(args.latency * 1000)} ms added to every STS "
        f"request by the proxy; median of {args.runs} runs, each in a fresh AWS home and keyring; "
        f"stsdash max_concurrency {args.concurrency or 'default'}. "
        + (
            "In-process ways run next to the proxy's threads (--shared-gil)."
            if args.shared_gil
            else "In-process ways run in a warm child process, so the proxy's threads do not share "
            "their GIL; only the refresh call is timed."
        )
    )
    out += [
        "",
        "| way | refresh wall time (s) | from process start (s) | MFA codes typed | codes sent to STS "
        "| STS requests |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        last = row.runs[-1]
        whole = row.process_median()
        whole_text = "n/a" if whole is None else f"{whole:.2f}"
        out.append(f"| {row.name} | {row.median():.2f} | {whole_text} | {last.prompts} | {last.codes} "
                   f"| {last.calls} |")
    by = {row.name: row for row in rows}
    out.append("")
    for label in ("stsdash refresh (CLI process)", "stsdash RefreshEngine.refresh (in-process)"):
        many, one = by[f"{label}, {args.roles} roles"], by[f"{label}, 1 role"]
        ratio = many.median() / one.median()
        verdict = "met" if ratio < 3 else "MISSED"
        out.append(f"- {label}: {args.roles} roles take {ratio:.2f}x one role (goal < 3x: {verdict}).")
    boto = by[f"botocore, one role at a time, a code each (in-process), {args.roles} roles"]
    fair = by[f"botocore, one MFA session + thread pool (in-process, fair baseline), {args.roles} roles"]
    mine = by[f"stsdash RefreshEngine.refresh (in-process), {args.roles} roles"]
    out.append(
        f"- against the fair baseline (botocore, one MFA session, a pool of {POOL_WIDTH}): "
        f"{fair.median():.2f} s and {fair.runs[-1].prompts} code, writing no files; stsdash "
        f"{mine.median():.2f} s and {mine.runs[-1].prompts} code, written to the credentials file "
        f"({fair.median() / mine.median():.2f}x the baseline's speed)."
    )
    out.append(
        f"- against botocore as profiles make it work (one role at a time, a code each): "
        f"{boto.median():.2f} s and {boto.runs[-1].prompts} codes "
        f"({boto.median() / mine.median():.1f}x slower than stsdash). The real win is one code instead "
        f"of {boto.runs[-1].prompts}."
    )
    out += ["", "Commands:", ""] + [f"- {row.name}: `{row.command}`" for row in rows[::2]]
    out += [
        "",
        f"Reproduce: `python bench/compare_refresh.py --roles {args.roles} --latency {args.latency} "
        f"--runs {args.runs}`",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
