"""The shared front end of validate, show, compile and export-ics: every input, whatever its
bytes, ends in exit 1 and one located error line; nothing absurd reaches tomllib or the exact
arithmetic; a fuzz run over random and mutated TOML finds no traceback and no hang."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schedule_builder import base, write

from pillctl.cli import main
from pillctl.schedule import check_file
from pillctl.schedule.findings import SCHEMA_RULE, SYNTAX_RULE

ROOT = Path(__file__).resolve().parents[2]
BONE_HEALTH = (ROOT / "schedules" / "bone-health.toml").read_text(encoding="utf-8")


def _lines_of(text: str, needle: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if needle in line]


def _variant(old: str, new: str, count: int = 1) -> str:
    assert old in BONE_HEALTH
    return BONE_HEALTH.replace(old, new, count)


ABSURD = {
    "nested-arrays": (BONE_HEALTH + "x = " + "[" * 5000 + "]" * 5000 + "\n", "nested more"),
    "nested-tables": (BONE_HEALTH + "x = " + "{a=" * 3000 + "1" + "}" * 3000, "nested more"),
    "brackets-only": ("[" * 100_000, "TOML syntax"),
    "5000-digits": (_variant("strength = 2000", "strength = " + "9" * 5000), "5000 characters"),
    "nan": (_variant("strength = 2000", "strength = nan"), "positive amount (value nan)"),
    "inf": (_variant("strength = 2000", "strength = inf"), "positive amount (value inf)"),
    "1e9999": (_variant("strength = 2000", "strength = 1e9999"), "must be in 0.001..1000000"),
    "1e99999999": (_variant("strength = 2000", "strength = 1e99999999"), "0.001..1000000"),
    "1e-99999999": (_variant("strength = 2000", "strength = 1e-99999999"), "0.001..1000000"),
    "tz-folder": (_variant('"Europe/Berlin"', '"Europe"'), "unknown IANA timezone"),
    "tz-localtime": (_variant('"Europe/Berlin"', '"localtime"'), "unknown IANA timezone"),
    "tz-factory": (_variant('"Europe/Berlin"', '"Factory"'), "unknown IANA timezone"),
    "tz-posixrules": (_variant('"Europe/Berlin"', '"posixrules"'), "unknown IANA timezone"),
    "tz-right": (_variant('"Europe/Berlin"', '"right/Europe/Berlin"'), "unknown IANA timezone"),
    "tz-posix": (_variant('"Europe/Berlin"', '"posix/Europe/Berlin"'), "unknown IANA timezone"),
    "tz-nul": (_variant('"Europe/Berlin"', '"Europe/\\u0000Berlin"'), "unknown IANA timezone"),
    "bare-time": (_variant('at = "07:30"', "at = 07:30"), 'write a time as a string, "07:30"'),
    "date-9999": (_variant('meal = "lunch"', 'meal = "lunch"\nend = 9999-12-31'), "2099-12-31"),
    "date-0001": (_variant('meal = "lunch"', 'meal = "lunch"\nstart = 0001-01-01'), "2000-01-01"),
    "10000-doses": (BONE_HEALTH + '[[doses]]\nid = "x"\n' * 10_000, "at most 32"),
    "binary": (bytes(range(256)).decode("latin-1"), "binary"),
    "latin-1": ("# caf\xe9\n", "not UTF-8"),
}


@pytest.mark.parametrize("name", sorted(ABSURD))
@pytest.mark.parametrize("command", ["validate", "show", "compile", "export-ics"])
def test_absurd_input_is_one_located_error(tmp_path, name, command):
    text, message = ABSURD[name]
    path = tmp_path / "schedule.toml"
    path.write_bytes(text.encode("latin-1" if name in ("binary", "latin-1") else "utf-8"))
    args = [command, str(path)]
    if command in ("compile", "export-ics"):
        args = [command, str(path), "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.output.splitlines() if "error " in line]
    assert errors and message in errors[0], result.output
    assert " at line " in errors[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_misspelt_key_is_one_error(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text(_variant("pills = 1", "pils = 1", 4), encoding="utf-8")
    errors = [f for f in check_file(path).findings if f.is_error]
    assert len(errors) == 4  # one per typo: no "missing required field 'pills'" besides
    assert all("did you mean 'pills'" in f.message for f in errors)
    assert [f.line for f in errors] == _lines_of(BONE_HEALTH, "pills = 1")


def test_a_broken_compartment_is_not_reported_again_by_its_doses(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text(_variant('unit = "mg"', 'unti = "mg"'), encoding="utf-8")
    errors = [f.render() for f in check_file(path).findings if f.is_error]
    (line,) = _lines_of(BONE_HEALTH, 'unit = "mg"')
    assert errors == [f"error SCHEMA at line {line} (compartments[2].unti): unknown key 'unti'; "
                      "did you mean 'unit'?"]  # fmt: skip


def test_every_finding_has_a_line_and_no_python_internals(tmp_path):
    path = tmp_path / "many.toml"
    text = _variant("strength = 250", "strength = 250.5").replace("pills = 1", "pills = 1.5")
    path.write_text(text.replace("early_minutes = 30", "early_minutes = 2021-01-01"), "utf-8")
    findings = check_file(path).findings
    assert findings
    for finding in findings:
        assert finding.line is not None, finding
        assert "Decimal(" not in finding.render() and "datetime." not in finding.render()


def test_an_empty_time_list_is_not_a_time(tmp_path):
    path = tmp_path / "levo.toml"
    medication = '[[profile.medications]]\nkind = "levothyroxine"\nat = []\n\n[[meals]]'
    path.write_text(BONE_HEALTH.replace("[[meals]]", medication, 1), encoding="utf-8")
    (finding,) = check_file(path).findings
    assert finding.rule == SCHEMA_RULE and "empty array is no time" in finding.message
    assert finding.path == "profile.medications[0].at"
    assert finding.line == _lines_of(BONE_HEALTH, "[[meals]]")[0] + 2


# --- fuzz ---------------------------------------------------------------------------------

_TOKENS = st.sampled_from(
    ["[", "]", "{", "}", "=", '"', "'", '"""', "\n", "#", ".", ",", "nan", "-inf", "1e9999",
     "9" * 60, "07:30", "2026-13-45", "[[doses]]", "[profile]", "\\u0000", "é", "😀", "\x00"]
)  # fmt: skip


@st.composite
def _mutated(draw) -> str:
    text = BONE_HEALTH
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 20))
        insert = draw(st.one_of(_TOKENS, st.text(max_size=8)))
        text = text[:at] + insert + text[at + cut :]
    return text


@settings(
    max_examples=300,
    deadline=timedelta(seconds=5),  # a hang, not a timing figure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.one_of(_mutated(), st.binary(max_size=400).map(lambda b: b.decode("latin-1"))))
def test_fuzz_never_raises_and_every_rejection_says_where(tmp_path, text):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    result = check_file(path)
    if result.ok:
        assert result.compiled is not None
        return
    errors = [finding for finding in result.findings if finding.is_error]
    assert errors
    for finding in errors:
        line = finding.render()
        assert "\n" not in line
        if finding.rule in (SYNTAX_RULE, SCHEMA_RULE) and finding.path not in ("", "doses"):
            assert finding.line is not None, line


@pytest.mark.parametrize(
    "old, new",
    [("[profile]", "[profle]"), ("[[meals]]", "[[meal]]"), ("[[compartments]]", "[[compartment]]"),
     ("timezone =", "timezon ="), ("[[doses]]", "[[dose]]")],
)  # fmt: skip
def test_a_misspelt_table_or_key_is_one_error_not_a_cascade(tmp_path, old, new):
    path = tmp_path / "typo.toml"
    path.write_text(BONE_HEALTH.replace(old, new), encoding="utf-8")
    errors = [f.render() for f in check_file(path).findings if f.is_error]
    assert len(errors) == 1 and "did you mean" in errors[0], errors


_ANY_VALUE = st.one_of(
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.decimals(allow_nan=True, allow_infinity=True, places=None).map(str).map(Decimal),
    st.text(max_size=20),
    st.dates(),
    st.times(),
    st.builds(list),  # fresh objects: the document is mutated in place
    st.builds(dict),
    st.lists(st.text(max_size=5), max_size=3),
    st.builds(lambda: [{"a": 1}]),
)


@st.composite
def _retyped(draw) -> dict:
    """The example schedule with a few fields, at any depth, set to a value of any type."""
    document = base()
    for _ in range(draw(st.integers(1, 4))):
        target = document
        while True:
            keys = list(target) if isinstance(target, dict) else list(range(len(target)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            if isinstance(target[key], dict | list) and target[key] and draw(st.booleans()):
                target = target[key]
                continue
            target[key] = draw(_ANY_VALUE)
            break
    return document


@settings(
    max_examples=300,
    deadline=timedelta(seconds=5),  # a hang, not a timing figure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(_retyped())
def test_fuzz_values_of_every_type_anywhere(tmp_path, document):
    result = check_file(write(tmp_path, document))
    if not result.ok:
        assert all(f.line is not None for f in result.findings if f.is_error)
        assert all("Decimal(" not in f.render() for f in result.findings)
