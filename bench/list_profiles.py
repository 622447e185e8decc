"""Reading profiles, side by side: `stsdash list --json` vs `aws configure list-profiles` vs botocore.

Generates realistic ~/.aws/config + ~/.aws/credentials files with 100, 1,000 and 5,000 profiles (roles
with source_profile, MFA users, SSO profiles with sso-sessions, static keys; all keys are fake) in a temp
directory, then times every reader on the same files in one run and prints a Markdown table of medians.

    python bench/list_profiles.py                 # 7 runs per cell, sizes 100,1000,5000
    python bench/list_profiles.py --runs 15 --sizes 5000 --profile

The AWS CLI is installed on first run into venvs of its own, so it can never change the botocore the
project itself uses:
`awscli` from PyPI (bench/.venv-awscli). That is CLI v1, which has no `configure list-profiles` (a
v2-only command, and v2 is not published on PyPI); its column times `aws configure list`, which loads
and parses both files the same way before answering.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import random
import shlex
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_VENV = HERE / ".venv-awscli"
CLI_V1 = "aws v1 configure list"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ca-central-1")
ENV_SCRUB = ("AWS_", "STSDASH_", "PYTHON_KEYRING_BACKEND")

BOTOCORE_SNIPPET = (
    "import botocore.session; s = botocore.session.Session(); print('\\n'.join(s.available_profiles))"
)


# --------------------------------------------------------------------------- generated files


@dataclass
class AwsFiles:
    """One generated AWS home."""

    root: Path
    config: Path
    credentials: Path
    sso_cache: Path
    profiles: int  # profiles botocore sees (config + credentials-only sections)

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(ENV_SCRUB)}
        return {
            **base,
            "HOME": str(self.root / "home"),
            "AWS_CONFIG_FILE": str(self.config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
            "AWS_EC2_METADATA_DISABLED": "true",
            "STSDASH_CONFIG": str(self.root / "stsdash" / "config.toml"),
            "XDG_CONFIG_HOME": str(self.root / "xdg-config"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }


def _fake_key(prefix: str, n: int) -> str:
    return f"{prefix}FAKE{n:012d}"  # 20 chars, never a real key


def _fake_secret(n: int) -> str:
    return f"fakeSecretEXAMPLE{n:08d}" + "x" * 15


def _fake_token(n: int) -> str:
    return "FwoGZXIvYXdzFAKETOKEN" + hashlib.sha256(str(n).encode()).hexdigest() * 6


def generate(root: Path, count: int, *, seed: int = 7) -> AwsFiles:
    """Write config/credentials (and SSO token caches) with about `count` profiles under `root`.

    Mix: 8% static users, 6% MFA users, 46% roles (source_profile, some via an MFA user, some chained,
    a few credential_source), 32% SSO (sso-session, a few legacy), 4% credential_process, 4% web identity;
    plus a `-session` credentials section for about a third of the roles, as stsdash would write them.
    """
    rng = random.Random(seed)
    home = root / "home"
    aws = home / ".aws"
    sso_cache = aws / "sso" / "cache"
    sso_cache.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)

    n_static = max(2, count * 8 // 100)
    n_mfa = max(1, count * 6 // 100)
    n_sso = count * 32 // 100
    n_proc = count * 4 // 100
    n_web = count * 4 // 100
    n_role = count - n_static - n_mfa - n_sso - n_proc - n_web - 1  # -1 for [default]
    n_sessions = max(1, n_sso // 40)

    cfg: list[str] = ["# Generated for stsdash benchmarks. All keys are fake.", ""]
    cred: list[str] = ["# Generated for stsdash benchmarks. All keys are fake.", ""]
    cfg += ["[default]", "region = us-east-1", "output = json", ""]
    cred += [
        "[default]",
        f"aws_access_key_id = {_fake_key('AKIA', 0)}",
        f"aws_secret_access_key = {_fake_secret(0)}",
        "",
    ]

    statics = [f"user-{i:05d}" for i in range(n_static)]
    for i, name in enumerate(statics, start=1):
        cfg += [f"[profile {name}]", f"region = {rng.choice(REGIONS)}", ""]
        cred += [
            f"[{name}]",
            f"aws_access_key_id = {_fake_key('AKIA', i)}",
            f"aws_secret_access_key = {_fake_secret(i)}",
            "",
        ]

    mfa_users = [f"mfa-{i:05d}" for i in range(n_mfa)]
    serials = {name: f"arn:aws:iam::{100000000000 + i:012d}:mfa/{name}" for i, name in enumerate(mfa_users)}
    for i, name in enumerate(mfa_users, start=100_000):
        cfg += [f"[profile {name}]", f"region = {rng.choice(REGIONS)}", f"mfa_serial = {serials[name]}", ""]
        cred += [
            f"[{name}]",
            f"aws_access_key_id = {_fake_key('AKIA', i)}",
            f"aws_secret_access_key = {_fake_secret(i)}",
            "",
        ]

    roles: list[str] = []
    for i in range(n_role):
        name = f"role-{i:05d}"
        account = f"{200000000000 + rng.randrange(10**9):012d}"
        role = rng.choice(["Admin", "ReadOnly", "Deploy", "Billing"])
        lines = [f"[profile {name}]", f"role_arn = arn:aws:iam::{account}:role/{role}"]
        roll = rng.random()
        if roll < 0.55:
            src = rng.choice(mfa_users)
            lines += [f"source_profile = {src}", f"mfa_serial = {serials[src]}"]
        elif roll < 0.80 or not roles:
            lines.append(f"source_profile = {rng.choice(statics)}")
        elif roll < 0.95:
            lines.append(f"source_profile = {rng.choice(roles)}")  # chained
        else:
            lines.append("credential_source = Environment")
        if rng.random() < 0.3:
            lines.append(f"role_session_name = bench-{i}")
        if rng.random() < 0.2:
            lines.append(f"external_id = ext-{i:06d}")
        if rng.random() < 0.2:
            lines.append("duration_seconds = 3600")
        lines.append(f"region = {rng.choice(REGIONS)}")
        if rng.random() < 0.05:
            lines += ["s3 =", "    addressing_style = path", "    max_concurrent_requests = 20"]
        cfg += [*lines, ""]
        roles.append(name)
        if rng.random() < 0.33:
            expires = now + timedelta(minutes=rng.randrange(-120, 720))
            j = 500_000 + i
            cred += [
                f"[{name}-session]",
                f"aws_access_key_id = {_fake_key('ASIA', j)}",
                f"aws_secret_access_key = {_fake_secret(j)}",
                f"aws_session_token = {_fake_token(j)}",
                f"aws_credential_expiration = {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
                "x_stsdash_managed = 1",
                "",
            ]

    sessions = [f"corp-{k:03d}" for k in range(n_sessions)]
    for k, sess in enumerate(sessions):
        region = REGIONS[k % len(REGIONS)]
        cfg += [
            f"[sso-session {sess}]",
            f"sso_start_url = https://{sess}.awsapps.com/start",
            f"sso_region = {region}",
            "sso_registration_scopes = sso:account:access",
            "",
        ]
        if k % 3 != 2:  # some sessions logged in, some not
            token = {
                "startUrl": f"https://{sess}.awsapps.com/start",
                "region": region,
                "accessToken": f"FAKEACCESSTOKEN{k}",
                "expiresAt": (now + timedelta(hours=k % 8)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "clientId": f"FAKECLIENT{k}",
                "clientSecret": f"FAKESECRET{k}",
                "registrationExpiresAt": (now + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "refreshToken": f"FAKEREFRESH{k}",
            }
            name = hashlib.sha1(sess.encode()).hexdigest() + ".json"
            (sso_cache / name).write_text(json.dumps(token))
    for i in range(n_sso):
        account = f"{300000000000 + rng.randrange(10**9):012d}"
        role = rng.choice(["AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess"])
        name = f"sso-{i:05d}"
        if i % 25 == 24:  # legacy profile: start URL in the profile itself
            cfg += [
                f"[profile {name}]",
                "sso_start_url = https://legacy.awsapps.com/start",
                "sso_region = us-east-1",
                f"sso_account_id = {account}",
                f"sso_role_name = {role}",
                f"region = {rng.choice(REGIONS)}",
                "",
            ]
        else:
            cfg += [
                f"[profile {name}]",
                f"sso_session = {rng.choice(sessions)}",
                f"sso_account_id = {account}",
                f"sso_role_name = {role}",
                f"region = {rng.choice(REGIONS)}",
                "",
            ]

    for i in range(n_proc):
        cfg += [f"[profile proc-{i:05d}]", f"credential_process = /usr/local/bin/fetch-creds --id {i}", ""]
    for i in range(n_web):
        cfg += [
            f"[profile web-{i:05d}]",
            f"role_arn = arn:aws:iam::{400000000000 + i:012d}:role/Ci",
            f"web_identity_token_file = /var/run/secrets/token-{i}",
            "",
        ]

    config, credentials = aws / "config", aws / "credentials"
    config.write_text("\n".join(cfg))
    credentials.write_text("\n".join(cred))
    os.chmod(credentials, 0o600)
    config_profiles = 1 + n_static + n_mfa + n_role + n_sso + n_proc + n_web
    cred_only = sum(1 for line in cred if line.startswith("[") and line.endswith("-session]"))
    return AwsFiles(root, config, credentials, sso_cache, config_profiles + cred_only)


# --------------------------------------------------------------------------- readers


@dataclass
class Reader:
    """One way of listing profiles; `run` returns (seconds, profiles it reported)."""

    name: str
    command: str
    run: Callable[[AwsFiles], tuple[float, int | None]]
    whole_process: bool = True
    times: dict[int, list[float]] = field(default_factory=dict)
    counts: dict[int, int | None] = field(default_factory=dict)


def _time_subprocess(
    argv: list[str], files: AwsFiles, count: Callable[[str], int | None]
) -> tuple[float, int | None]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=files.env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        raise RuntimeError(f"{shlex.join(argv)} exited {proc.returncode}: {' | '.join(tail)}")
    return elapsed, count(proc.stdout)


def _count_lines(out: str) -> int:
    return sum(1 for line in out.splitlines() if line.strip())


def _count_json(out: str) -> int | None:
    try:
        data = json.loads(out)
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict):
        data = data.get("profiles", data)
    return len(data) if isinstance(data, (list, dict)) else None


def stsdash_argv() -> list[str]:
    """The installed console script (no pyenv shim in front), else `python -m stsdash`."""
    script = Path(sysconfig.get_path("scripts")) / "stsdash"
    return [str(script)] if script.exists() else [sys.executable, "-m", "stsdash"]


def ensure_awscli(venv: Path, requirement: str) -> Path:
    """`aws` from its own venv, created with `python -m venv` + pip on first use."""
    aws = venv / "bin" / "aws"
    if aws.exists():
        return aws
    print(f"# installing {requirement} into {venv} (first run only)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", requirement], check=True)
    return aws


def aws_version(aws: Path) -> str:
    out = subprocess.run([str(aws), "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).strip().split(" Linux")[0] or "?"


def _in_process_botocore(files: AwsFiles) -> tuple[float, int | None]:
    import botocore.session

    with _environ(files.env()):
        start = time.perf_counter()
        session = botocore.session.Session()
        session.full_config  # noqa: B018 - the parse being timed
        names = session.available_profiles
        elapsed = time.perf_counter() - start
    return elapsed, len(names)


def _in_process_stsdash(files: AwsFiles) -> tuple[float, int | None]:
    from stsdash.awsfiles.paths import aws_paths
    from stsdash.profiles import load_profiles
    from stsdash.settings import Settings

    env = files.env()
    with _environ(env):
        start = time.perf_counter()
        profiles = load_profiles(aws_paths(env), Settings())
        elapsed = time.perf_counter() - start
    return elapsed, len(profiles.profiles)


@contextlib.contextmanager
def _environ(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def build_readers(clis: dict[str, Path]) -> list[Reader]:
    """Every reader to time; `clis` maps CLI_V1 to an `aws` executable."""
    sts = stsdash_argv()
    readers = [
        Reader(
            "stsdash list --json",
            shlex.join([*sts, "list", "--json"]),
            lambda f: _time_subprocess([*sts, "list", "--json"], f, _count_json),
        ),
    ]
    for label, args, count in (
        (CLI_V1, ["configure", "list"], lambda _out: None),
    ):
        if label in clis:
            argv = [str(clis[label]), *args]
            readers.append(
                Reader(label, shlex.join(argv), lambda f, a=argv, c=count: _time_subprocess(a, f, c))
            )
    py = [sys.executable, "-c", BOTOCORE_SNIPPET]
    readers += [
        Reader("botocore (process)", shlex.join(py), lambda f: _time_subprocess(py, f, _count_lines)),
        Reader(
            "botocore parse (in-process)",
            "Session().full_config; .available_profiles",
            _in_process_botocore,
            whole_process=False,
        ),
    ]
    try:
        import stsdash.profiles  # noqa: F401
    except ImportError:
        pass
    else:
        readers.append(
            Reader(
                "stsdash load_profiles (in-process)",
                "load_profiles(aws_paths(), Settings())",
                _in_process_stsdash,
                whole_process=False,
            )
        )
    return readers


# --------------------------------------------------------------------------- report


def machine_info() -> str:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {system}"


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f}" if values else "n/a"


def report(
    readers: list[Reader], sizes: list[int], runs: int, clis: dict[str, Path], errors: list[str]
) -> str:
    import botocore

    import stsdash

    out = ["## Reading profiles", ""]
    out.append(f"Machine: {machine_info()}  ")
    versions = f"stsdash {stsdash.__version__}, botocore {botocore.__version__}"
    versions += "".join(
        f", {label.split(' configure')[0]}: {aws_version(aws)}" for label, aws in clis.items()
    )
    out.append(f"Versions: {versions}  ")
    out.append(f"Median of {runs} runs after one warm-up run, in milliseconds (lower is better).")
    out.append("")
    header = ["profiles", *[r.name for r in readers]]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---:|" * len(header))
    for size in sizes:
        row = [f"{size:,}"]
        for r in readers:
            row.append(_ms(r.times.get(size, [])))
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    by_name = {r.name: r for r in readers}
    sts = by_name.get("stsdash list --json")
    goals: list[str] = []
    for size in sizes:
        if sts is None or not sts.times.get(size):
            continue
        mine = statistics.median(sts.times[size])
        parts = [f"{size:,} profiles:"]
        for label in (CLI_V1,):
            cli = by_name.get(label)
            if cli and cli.times.get(size):
                ratio = statistics.median(cli.times[size]) / mine
                verdict = "met" if ratio >= 3 else "MISSED"
                parts.append(f"{ratio:.1f}x faster than `{label}` (goal >= 3x: {verdict});")
        boto = by_name.get("botocore (process)")
        if boto and boto.times.get(size):
            ratio = statistics.median(boto.times[size]) / mine
            parts.append(
                f"{ratio:.2f}x botocore's whole process (goal >= 1.0: {'met' if ratio >= 1 else 'MISSED'})"
            )
        inproc_b, inproc_s = (
            by_name.get("botocore parse (in-process)"),
            by_name.get("stsdash load_profiles (in-process)"),
        )
        if inproc_b and inproc_s and inproc_b.times.get(size) and inproc_s.times.get(size):
            ratio = statistics.median(inproc_b.times[size]) / statistics.median(inproc_s.times[size])
            parts.append(f"; in-process parse {ratio:.2f}x botocore's")
        goals.append("- " + " ".join(parts))
    out += goals
    counts = {r.name: r.counts for r in readers}
    out += [
        "",
        "stsdash lists fewer names: the generated `<role>-session` credentials sections are the targets of"
        " other profiles and appear only with `--all`; every reader parses all of them.",
        "",
        "Profiles reported by each reader: "
        + "; ".join(f"{name}: {', '.join(str(c.get(s)) for s in sizes)}" for name, c in counts.items()),
    ]
    out += [
        "",
        "Commands (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point at the generated files):",
        "",
    ]
    out += [f"- {r.name}: `{r.command}`" for r in readers]
    out += [
        "",
        f"Reproduce: `python bench/list_profiles.py --runs {runs} --sizes {','.join(map(str, sizes))}`",
    ]
    if errors:
        out += ["", "Errors:", *[f"- {e}" for e in errors]]
    return "\n".join(out)


def profile_stsdash(files: AwsFiles) -> None:
    """cProfile of `stsdash list --json` in-process, and the slowest imports of a fresh process."""
    import cProfile
    import pstats

    from stsdash import cli

    with _environ(files.env()):
        prof = cProfile.Profile()
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            prof.enable()
            cli.main(["list", "--json"])
            prof.disable()
    stats = io.StringIO()
    pstats.Stats(prof, stream=stats).sort_stats("cumulative").print_stats(30)
    print("### cProfile: stsdash list --json (in-process, cumulative)\n\n```", file=sys.stderr)
    print(stats.getvalue(), file=sys.stderr)
    print("```", file=sys.stderr)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "stsdash", "list", "--json"],
        env=files.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            self_us, cum_us, name = (p.strip() for p in line.split(":", 1)[1].split("|"))
            with contextlib.suppress(ValueError):
                rows.append((int(cum_us), int(self_us), name))
    rows.sort(reverse=True)
    print("### Slowest imports (cumulative µs, self µs)\n", file=sys.stderr)
    for cum, self_us, name in rows[:25]:
        print(f"{cum:>9} {self_us:>9}  {name}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per cell (default 7)")
    parser.add_argument("--sizes", default="100,1000,5000", help="profile counts (default 100,1000,5000)")
    parser.add_argument("--awscli-venv", type=Path, default=DEFAULT_VENV, help="venv for awscli from PyPI")
    parser.add_argument("--no-awscli", action="store_true", help="skip the AWS CLI columns")
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    parser.add_argument("--profile", action="store_true", help="also cProfile stsdash on the largest size")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    clis: dict[str, Path] = {}
    if not args.no_awscli:
        clis[CLI_V1] = ensure_awscli(args.awscli_venv, "awscli")
    readers = build_readers(clis)
    errors: list[str] = []
    with contextlib.ExitStack() as stack:
        base = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stsdash-bench-")))
        for size in sizes:
            files = generate(base / f"p{size}", size)
            live = list(readers)
            for r in list(live):  # warm-up (pyc, page cache) and sanity check
                try:
                    _, r.counts[size] = r.run(files)
                    r.times[size] = []
                except Exception as exc:
                    errors.append(f"{r.name} @ {size}: {exc}")
                    live.remove(r)
            for _ in range(args.runs):  # round robin, so background noise hits every reader alike
                for r in live:
                    elapsed, _ = r.run(files)
                    r.times[size].append(elapsed)
            print(
                f"# {size} profiles: " + ", ".join(f"{r.name} {_ms(r.times[size])} ms" for r in live),
                file=sys.stderr,
            )
            if args.profile and size == max(sizes):
                try:
                    profile_stsdash(files)
                except Exception as exc:
                    errors.append(f"profiling: {exc}")
    print(report(readers, sizes, args.runs, clis, errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
