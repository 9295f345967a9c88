"""Every rule of the rules file: one schedule that trips it and one just inside its limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from schedule_builder import base, compartment, dose, write

from pillctl.schedule import check_file
from pillctl.schedule.rules import ERROR, INFO, OVERRIDDEN, RULES, WARNING


def _set(path: tuple, value) -> Callable[[dict], None]:
    """A mutation that sets one nested field; ints in ``path`` index arrays."""

    def mutate(document: dict) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _d3_strength(iu) -> Callable[[dict], None]:
    return lambda doc: compartment(doc, "d3").update(strength=iu)


def _extra_dose(**fields) -> Callable[[dict], None]:
    return lambda doc: doc["doses"].append(fields)


def _medication(kind: str, at: str) -> Callable[[dict], None]:
    return lambda doc: doc["profile"].setdefault("medications", []).append({"kind": kind, "at": at})


def _both(*mutations: Callable[[dict], None]) -> Callable[[dict], None]:
    def mutate(document: dict) -> None:
        for mutation in mutations:
            mutation(document)

    return mutate


def _mk4_regimen(per_pill_mg, meals=("breakfast", "lunch", "dinner")) -> Callable[[dict], None]:
    def mutate(document: dict) -> None:
        compartment(document, "k2").update(form="MK-4", strength=per_pill_mg, unit="mg")
        document["doses"] = [d for d in document["doses"] if d["compartment"] != "k2"]
        for meal in meals:
            document["doses"].append(
                {"id": f"k2-{meal}", "compartment": "k2", "pills": 1, "meal": meal}
            )

    return mutate


def _without_compartment(ident: str) -> Callable[[dict], None]:
    def mutate(document: dict) -> None:
        document["compartments"] = [c for c in document["compartments"] if c["id"] != ident]
        document["doses"] = [d for d in document["doses"] if d["compartment"] != ident]

    return mutate


def _carbonate_at_clock(form: str) -> Callable[[dict], None]:
    def mutate(document: dict) -> None:
        compartment(document, "ca")["form"] = form
        dose(document, "ca-dinner").pop("meal")
        dose(document, "ca-dinner")["at"] = "21:00"

    return mutate


def _child(age: int, d3_iu: int) -> Callable[[dict], None]:
    """A child's profile with AGE-ADULT overridden, so the age band's limits apply."""

    def mutate(document: dict) -> None:
        document["profile"]["age"] = age
        document["overrides"] = [
            {"rule": "AGE-ADULT", "clinician": "Dr. Ada Lovelace", "reason": "paediatric plan"}
        ]
        compartment(document, "d3").update(strength=d3_iu)

    return mutate


CASES = {
    # rule: (trips it, just inside its limit)
    "D3-UL": (_d3_strength(4001), _d3_strength(4000)),
    "D3-LOW": (_d3_strength(599), _d3_strength(600)),
    "CA-UL": (
        _set(("profile", "dietary_calcium_mg"), 1501),
        _set(("profile", "dietary_calcium_mg"), 1500),
    ),
    "CA-PER-DOSE": (
        lambda doc: compartment(doc, "ca").update(strength=501),
        lambda doc: compartment(doc, "ca").update(strength=500),
    ),
    "CA-CARB-FOOD": (_carbonate_at_clock("carbonate"), _carbonate_at_clock("citrate")),
    "FAT-MEAL": (
        lambda doc: dose(doc, "d3-lunch").update(meal="breakfast"),
        lambda doc: dose(doc, "d3-lunch").update(meal="dinner"),
    ),
    "K2-VKA": (
        _medication("warfarin", "18:00"),
        _both(_medication("warfarin", "18:00"), _without_compartment("k2")),
    ),
    "MK4-MAX": (_mk4_regimen(Decimal("15.001")), _mk4_regimen(15)),
    "MK4-SPLIT": (_mk4_regimen(30, meals=("lunch",)), _mk4_regimen(15, meals=("lunch",))),
    "K2-FORM": (
        lambda doc: compartment(doc, "k2").update(strength=Decimal("0.1"), unit="mg"),
        lambda doc: compartment(doc, "k2").update(strength=100, unit="mcg"),
    ),
    # Spacing is measured from the calcium's whole meal window: breakfast 07:00-09:00,
    # dinner 18:00-20:30.
    "CA-LEVO": (_medication("levothyroxine", "12:59"), _medication("levothyroxine", "13:00")),
    "CA-TETRA": (_medication("tetracycline", "05:01"), _medication("tetracycline", "05:00")),
    "CA-QUIN": (_medication("quinolone", "10:59"), _medication("quinolone", "11:00")),
    "CA-IRON": (_medication("iron", "05:01"), _medication("zinc", "05:00")),
    "CA-BISPHOS": (_medication("bisphosphonate", "06:01"), _medication("bisphosphonate", "06:00")),
    "CA-D3-MONITOR": (
        _medication("thiazide", "08:00"),
        _both(_medication("digoxin", "08:00"), _without_compartment("d3")),
    ),
    "CKD-CA": (
        _set(("profile", "conditions"), ["chronic-kidney-disease"]),
        _both(
            _set(("profile", "conditions"), ["chronic-kidney-disease"]),
            _without_compartment("d3"),
        ),
    ),
    "AGE-ADULT": (_set(("profile", "age"), 18), _set(("profile", "age"), 19)),
    "CHILD-UL": (_child(8, 3001), _child(8, 3000)),
}


def _rules_fired(tmp_path, mutate) -> dict[str, str]:
    document = base()
    mutate(document)
    result = check_file(write(tmp_path, document))
    assert result.schedule is not None, [f.render() for f in result.findings]
    return {finding.rule: finding.severity for finding in result.findings}


def test_every_rule_of_the_rules_file_has_cases():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_trips(tmp_path, rule):
    fired = _rules_fired(tmp_path, CASES[rule][0])
    expected = ERROR if RULES[rule].signoff_required else RULES[rule].severity
    assert fired.get(rule) == expected


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_stays_quiet_just_inside_its_limit(tmp_path, rule):
    assert rule not in _rules_fired(tmp_path, CASES[rule][1])


def test_finding_names_values_limit_path_and_source(tmp_path):
    document = base()
    _d3_strength(4001)(document)
    result = check_file(write(tmp_path, document))
    (finding,) = result.findings
    assert (finding.rule, finding.value, finding.limit) == ("D3-UL", "4001 IU", "<= 4000 IU/day")
    assert finding.path == "doses[1]"
    assert "NAP book 13050" in finding.source


def test_vitamin_d_in_micrograms_converts_exactly(tmp_path):
    for strength, fires in ((Decimal("15"), False), (Decimal("14.975"), True)):
        document = base()
        compartment(document, "d3").update(strength=strength, unit="µg")
        assert ("D3-LOW" in _rules_fired(tmp_path, lambda doc, d=document: doc.update(d))) == fires


def test_vitamin_d_rda_is_higher_over_70(tmp_path):
    fired = _rules_fired(tmp_path, _both(_d3_strength(700), _set(("profile", "age"), 71)))
    assert fired["D3-LOW"] == INFO
    assert "D3-LOW" not in _rules_fired(tmp_path, _d3_strength(700))


def test_calcium_ul_is_2500_up_to_age_50(tmp_path):
    younger = _set(("profile", "age"), 50)
    assert "CA-UL" not in _rules_fired(
        tmp_path, _both(younger, _set(("profile", "dietary_calcium_mg"), 2000))
    )
    assert "CA-UL" in _rules_fired(
        tmp_path, _both(younger, _set(("profile", "dietary_calcium_mg"), 2001))
    )


def test_totals_count_a_weekday_dose_only_on_its_weekdays(tmp_path):
    # 2000 IU daily + 2000 IU on Mondays = 4000 on Mondays: at the UL, not above it.
    monday_extra = _extra_dose(id="d3-mon", compartment="d3", pills=1, meal="dinner", days=["mon"])
    assert "D3-UL" not in _rules_fired(tmp_path, monday_extra)
    # Two 3000 IU doses on different weekdays never meet on one day.
    split_days = _both(
        _d3_strength(3000),
        lambda doc: dose(doc, "d3-lunch").update(days=["mon", "wed", "fri"]),
        _extra_dose(id="d3-din", compartment="d3", pills=1, meal="dinner", days=["tue", "thu"]),
    )
    assert "D3-UL" not in _rules_fired(tmp_path, split_days)
    overlapping = _both(
        _d3_strength(3000),
        _extra_dose(id="d3-din", compartment="d3", pills=1, meal="dinner", days=["sun"]),
    )
    assert _rules_fired(tmp_path, overlapping)["D3-UL"] == ERROR


def test_totals_respect_start_and_end_dates(tmp_path):
    def two_regimens(second_start: date):
        return _both(
            _d3_strength(3000),
            lambda doc: dose(doc, "d3-lunch").update(start=date(2027, 1, 1), end=date(2027, 6, 30)),
            _extra_dose(id="d3-din", compartment="d3", pills=1, meal="dinner", start=second_start),
        )

    assert "D3-UL" not in _rules_fired(tmp_path, two_regimens(date(2027, 7, 1)))
    assert "D3-UL" in _rules_fired(tmp_path, two_regimens(date(2027, 6, 30)))


def test_calcium_per_dose_adds_compartments_in_the_same_meal(tmp_path):
    second_calcium = _both(
        lambda doc: doc["compartments"].__setitem__(
            0, {**compartment(doc, "ca"), "id": "ca2", "hopper": 0, "strength": 251}
        ),
        lambda doc: doc["doses"].__setitem__(
            1, {"id": "ca2-bf", "compartment": "ca2", "pills": 1, "meal": "breakfast"}
        ),
    )
    assert _rules_fired(tmp_path, second_calcium)["CA-PER-DOSE"] == WARNING


def test_spacing_counts_across_midnight(tmp_path):
    late_calcium = _both(
        lambda doc: doc["meals"].append(
            {"name": "supper", "at": "23:30", "late_minutes": 29, "contains_fat": True}
        ),
        lambda doc: dose(doc, "ca-dinner").update(meal="supper"),
    )
    assert "CA-QUIN" in _rules_fired(
        tmp_path, _both(late_calcium, _medication("quinolone", "01:58"))
    )  # 1 h 59 after the supper window's late edge, 23:59
    assert "CA-QUIN" not in _rules_fired(
        tmp_path, _both(late_calcium, _medication("quinolone", "01:59"))
    )


def test_spacing_from_a_reminder_item_on_some_weekdays(tmp_path):
    def weekly_levothyroxine(days):
        return lambda doc: doc.setdefault("reminder_items", []).append(
            {"id": "levo", "medication": "levothyroxine", "at": "09:30", "days": days}
        )

    calcium_weekends = lambda doc: dose(doc, "ca-breakfast").update(days=["sat", "sun"])  # noqa: E731
    assert "CA-LEVO" in _rules_fired(tmp_path, weekly_levothyroxine(["sun"]))
    assert "CA-LEVO" not in _rules_fired(
        tmp_path, _both(calcium_weekends, weekly_levothyroxine(["mon", "tue"]))
    )


def test_override_accepts_an_overridable_error_and_names_the_clinician(tmp_path):
    override = {"rule": "D3-UL", "clinician": "Dr A. Example", "reason": "documented deficiency"}
    document = base()
    _d3_strength(5000)(document)
    document["overrides"] = [override]
    result = check_file(write(tmp_path, document))
    assert result.ok
    (finding,) = result.findings
    assert finding.severity == OVERRIDDEN
    assert finding.override == "Dr A. Example: documented deficiency"


def test_kidney_disease_with_sign_off_is_a_warning(tmp_path):
    sign_off = {"rule": "CKD-CA", "clinician": "Dr N. Ephro", "reason": "eGFR monitored monthly"}
    fired = _rules_fired(
        tmp_path,
        _both(
            _set(("profile", "conditions"), ["chronic-kidney-disease"]),
            _set(("overrides",), [sign_off]),
        ),
    )
    assert fired == {"CKD-CA": WARNING}
