"""Runs every pure-core test module again under the real MicroPython unix port."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pillctl.micropython import micropython_command

ROOT = Path(__file__).resolve().parent.parent
CORE_TESTS = sorted(p.stem for p in (ROOT / "tests" / "core").glob("test_*.py"))


@pytest.mark.parametrize("module", CORE_TESTS)
def test_core_module_passes_under_micropython(module: str) -> None:
    # MICROPYPATH replaces the default path, so the frozen asyncio etc. stay reachable
    # through ".frozen".
    env = {"MICROPYPATH": f".frozen:{ROOT / 'tests' / 'core'}:{ROOT / 'firmware'}"}
    result = subprocess.run(
        [*micropython_command(), str(ROOT / "tests" / "mp_runner.py"), module],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
