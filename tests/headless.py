"""Headless Chromium for tests that must look at a rendered page: ``skip_if_no_chromium``, screenshots, DOM dumps.

CI needs the browser installed (Debian): ``apt-get install -y chromium``. Where it is absent, the tests that
use it are skipped with a reason that says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str | None:
    """The Chromium executable: ``$CHROMIUM`` if set, else the first of the usual names on PATH."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    return next((p for p in map(shutil.which, _NAMES) if p), None)


skip_if_no_chromium = pytest.mark.skipif(
    chromium_path() is None, reason="headless Chromium not installed (Debian: apt-get install -y chromium)"
)


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    exe = chromium_path()
    assert exe is not None
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        # No sandbox (containers run as root), no GPU, and nothing that phones home: the page is self-contained.
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-extensions",
            "--disable-default-apps",
            "--mute-audio",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
        ]
        return subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=timeout)


def screenshot(
    page: Path,
    png: Path,
    width: int = 1400,
    height: int = 1000,
    fragment: str = "",
    timeout: float = 60,
    extra: list[str] | None = None,
) -> None:
    """Render ``page`` (a local HTML file) and save a PNG of the viewport (Chromium's narrowest window is 500 px;
    put the page in a narrower iframe to lay it out narrower)."""
    done = _run(
        [*(extra or []), f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri() + fragment],
        timeout,
    )
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit {done.returncode}):\n{done.stderr[-2000:]}")


def dump_dom(
    page: Path,
    fragment: str = "",
    timeout: float = 60,
    window: tuple[int, int] | None = None,
    extra: list[str] | None = None,
) -> str:
    """The DOM after the page's scripts ran, serialised; ``window`` sets the window (width, height)."""
    size = [f"--window-size={window[0]},{window[1]}"] if window else []
    done = _run([*size, *(extra or []), "--dump-dom", page.resolve().as_uri() + fragment], timeout)
    if done.returncode != 0 or "<html" not in done.stdout:
        raise RuntimeError(f"chromium --dump-dom failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout
