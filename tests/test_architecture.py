"""The architecture is checked, not only described: import contracts, and modules of one job each."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="needs import-linter (the dev extra)")
def test_import_contracts_hold() -> None:
    """textual only under ui/; the domain never imports ui/, commands/ or the demo; no package cycles
    (the contracts are in pyproject.toml)."""
    result = subprocess.run(["lint-imports", "--no-cache"], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
