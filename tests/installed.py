"""Running code against the installed wheel only (see the ``installed_wheel`` fixture in conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_installed(site: Path, code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with only the installed wheel importable (not the checkout)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
