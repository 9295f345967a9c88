"""Shared pytest set-up: repository paths and a simulated board fixture."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pillctl.sim.process import SimProcess

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sim_board(tmp_path):
    """A simulated board running the source firmware, stopped after the test."""
    with SimProcess(tmp_path / "board") as board:
        yield board


@pytest.fixture
def world(tmp_path, monkeypatch):
    """An in-process App on a fake board, in virtual time (tests/inprocess.py)."""
    from inprocess import make_world

    return make_world(tmp_path, monkeypatch)


def run_pillctl(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """Run the CLI as a separate process, as a user would (`env` adds variables, `stdin` is
    what the user types)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "host"), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "pillctl", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        env=env,
    )
