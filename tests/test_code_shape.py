"""Checks that keep the code in shape: every module has one job and fits in a reading (under 500 lines),
and the type hints hold (mypy, configured in pyproject.toml, over stsdash/ and stsdash_demo/)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 500
PACKAGES = ("stsdash", "stsdash_demo")


def _modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (REPO / package).rglob("*.py"))


def test_no_module_is_over_500_lines() -> None:
    modules = _modules()
    assert len(modules) > 40  # the walk really found the package
    lengths = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in modules}
    too_long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert not too_long, f"split these by job: {too_long}"


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="needs mypy (the dev extra)")
def test_type_hints_hold() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
