"""The generated tables of docs/safety-rules.md, from rules.py and the firmware's nutrients.py.

``python -m pillctl.schedule.rules_doc`` rewrites them in place; the test
tests/schedule/test_safety_rules_doc.py fails whenever the document and the code disagree,
so a rule cannot change in one and not the other.
"""

from __future__ import annotations

import re
from pathlib import Path

from dispenser.core import nutrients
from pillctl.schedule.rules import CHILD_BANDS, RULES, THRESHOLDS
from pillctl.schedule.units import NUTRIENT_NAMES, NUTRIENT_UNITS

DOC = Path(__file__).resolve().parents[3] / "docs" / "safety-rules.md"
_SECTION = re.compile(
    r"(<!-- generated: (?P<name>[a-z ]+) -->\n)(?P<body>.*?)(<!-- end of generated -->)", re.S
)


def rules_table() -> str:
    rows = [
        "| id | fires when | severity | overridable | why | source |",
        "|---|---|---|---|---|---|",
    ]
    for rule in RULES.values():
        overridable = (
            "yes (sign-off required)"
            if rule.signoff_required
            else ("yes" if rule.overridable else "no")
        )
        rows.append(
            f"| {rule.id} | {THRESHOLDS[rule.id]} | {rule.severity} | {overridable} | "
            f"{rule.summary} | {rule.source} |"
        )
    return "\n".join(rows) + "\n"


def age_bands_table() -> str:
    rows = ["| age (whole years) | band | vitamin D UL | calcium UL |", "|---|---|---|---|"]
    lowest = 0
    for upto, vitamin_d, calcium, band in CHILD_BANDS:
        ages = str(upto) if upto == lowest else f"{lowest}-{upto}"
        rows.append(f"| {ages} | {band} | {vitamin_d} IU | {calcium} mg |")
        lowest = upto + 1
    return "\n".join(rows) + "\n"


def device_limits_table() -> str:
    rows = [
        "| nutrient | absolute daily cap (lifted only by a confirmed override of) | ceiling "
        "(never lifted) |",
        "|---|---|---|",
    ]
    for code, name in enumerate(nutrients.NUTRIENTS):
        unit = NUTRIENT_UNITS[name]
        cap = nutrients.ABSOLUTE_CAPS[code]
        cap_text = "none" if cap is None else f"{cap} {unit} ({nutrients.OVERRIDE_RULES[code]})"
        ceiling = nutrients.CEILINGS[code]
        parts = [] if ceiling is None else [f"{ceiling} {unit} a day"]
        if code == 0:
            parts = [
                f"{nutrients.D_WEEK_CEILING} {unit} in any {nutrients.WEEK_DAYS} days",
                f"{nutrients.D_DOSE_CEILING} {unit} in one dose",
            ]
        rows.append(f"| {NUTRIENT_NAMES[name]} | {cap_text} | {'; '.join(parts) or 'none'} |")
    return "\n".join(rows) + "\n"


SECTIONS = {
    "rules": rules_table,
    "age bands": age_bands_table,
    "device limits": device_limits_table,
}


def render(document: str) -> str:
    """``document`` with every generated section replaced by what the code says now."""

    def fill(match: re.Match) -> str:
        return match[1] + SECTIONS[match["name"]]() + match[4]

    return _SECTION.sub(fill, document)


def sections(document: str) -> set[str]:
    return {match["name"] for match in _SECTION.finditer(document)}


if __name__ == "__main__":
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{DOC}: {len(SECTIONS)} generated sections written")
