"""The bad-input corpus: every malformed or unsafe schedule exits 1, names the problem and
never prints a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pillctl.cli import main

CORPUS = Path(__file__).parent / "corpus"
WORKTREE = Path(__file__).resolve().parents[2]
CORPUS_FILES = sorted(CORPUS.glob("*.toml"))


def _expectation(path: Path) -> tuple[str, str]:
    """The ``# expect: RULE|text`` line every corpus file carries."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect: "):
            rule, text = line.removeprefix("# expect: ").split("|", 1)
            return rule, text
    raise AssertionError(f"{path.name} has no '# expect:' line")


def _validate(path: Path):
    return CliRunner().invoke(main, ["validate", str(path)])


def test_corpus_is_large_enough():
    assert len(CORPUS_FILES) >= 40


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda path: path.stem)
def test_corpus_file_is_rejected_with_its_reason(path):
    rule, text = _expectation(path)
    result = _validate(path)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    error_lines = [line for line in result.output.splitlines() if f"error {rule}" in line]
    assert any(text in line for line in error_lines), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty", b"", "missing required field 'timezone'"),
        ("binary", bytes(range(256)) * 8, "binary"),
        ("latin1", '# caf\xe9\ntimezone = "UTC"\n'.encode("latin-1"), "not UTF-8"),
        ("huge", b"# padding\n" * (1024 * 1024), "at most 262144 bytes"),
    ],
)
def test_unusable_files_are_rejected(tmp_path, name, content, message):
    path = tmp_path / f"{name}.toml"
    path.write_bytes(content)
    result = _validate(path)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_ten_megabyte_file_is_rejected_before_reading(tmp_path):
    path = tmp_path / "big.toml"
    with path.open("wb") as big:
        big.truncate(10 * 1024 * 1024)
    result = _validate(path)
    assert result.exit_code == 1
    assert "10485760 bytes" in result.output


def test_missing_file_is_an_error_not_a_traceback(tmp_path):
    result = _validate(tmp_path / "nowhere.toml")
    assert result.exit_code == 1
    assert "cannot read the file" in result.output


def _run_pillctl(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(WORKTREE / "host")}
    return subprocess.run(
        [sys.executable, "-m", "pillctl", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize("stem", ["k2-with-warfarin", "toml-syntax-error", "meal-time-24-30"])
def test_real_process_exits_1_without_traceback(stem):
    rule, text = _expectation(CORPUS / f"{stem}.toml")
    completed = _run_pillctl("validate", str(CORPUS / f"{stem}.toml"))
    assert completed.returncode == 1
    assert f"error {rule}" in completed.stderr and text in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout


def test_real_process_compile_refuses_an_unsafe_schedule(tmp_path):
    output = tmp_path / "out.json"
    completed = _run_pillctl("compile", str(CORPUS / "d3-above-ul.toml"), "-o", str(output))
    assert completed.returncode == 1
    assert completed.stderr.startswith("pillctl: ") and "D3-UL" in completed.stderr
    assert not output.exists()
