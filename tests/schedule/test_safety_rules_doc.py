"""docs/safety-rules.md states the rules and limits the code enforces: its generated tables
are exactly what rules.py and the firmware's nutrients.py say now."""

from __future__ import annotations

from pillctl.schedule.rules import RULES, THRESHOLDS
from pillctl.schedule.rules_doc import DOC, SECTIONS, render, sections


def test_the_document_is_what_the_code_says():
    document = DOC.read_text(encoding="utf-8")
    assert sections(document) == set(SECTIONS)
    assert render(document) == document, "run: python -m pillctl.schedule.rules_doc"


def test_every_rule_has_a_threshold_and_a_row():
    assert set(THRESHOLDS) == set(RULES)
    document = DOC.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"\n| {rule} | {THRESHOLDS[rule]} |" in document


def test_a_changed_limit_would_show():
    document = DOC.read_text(encoding="utf-8")
    assert render(document.replace("70000 IU in any 7 days", "80000 IU in any 7 days")) == document
