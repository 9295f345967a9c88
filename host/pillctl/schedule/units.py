"""Nutrients, supplement forms and exact unit conversion to the device's integer units.

Amounts are converted with exact arithmetic (``Decimal``/``Fraction``, never floats), so
12.5 µg of D3 is exactly 500 IU and a strength that does not convert to a whole number of
device units is rejected instead of rounded.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from dispenser.core import nutrients

IU_PER_UG_VITAMIN_D = 40
"""1 µg vitamin D = 40 IU (FDA ergocalciferol label; docs/safety-rules.md)."""

VITAMIN_D, CALCIUM, MK7, MK4 = nutrients.NUTRIENTS
"""The firmware's nutrient ids, in the order of their codes."""

NUTRIENT_UNITS = {VITAMIN_D: "IU", CALCIUM: "mg", MK7: "µg", MK4: "µg"}
"""The device unit of each nutrient (docs/device-schedule.md, "Nutrients and units")."""

NUTRIENT_NAMES = {
    VITAMIN_D: "vitamin D3",
    CALCIUM: "calcium (elemental)",
    MK7: "vitamin K2 (MK-7)",
    MK4: "vitamin K2 (MK-4)",
}

SUPPLEMENT_D3 = "vitamin-d3"
SUPPLEMENT_K2 = "vitamin-k2"
SUPPLEMENT_CALCIUM = "calcium"


def _device_form(form: str) -> tuple[str, str]:
    """(device form, the nutrient the firmware says it carries)."""
    return form, nutrients.NUTRIENTS[nutrients.FORMS[form]]


FORMS = {
    SUPPLEMENT_D3: {"cholecalciferol": _device_form("d3")},
    SUPPLEMENT_K2: {"MK-7": _device_form("mk7"), "MK-4": _device_form("mk4")},
    SUPPLEMENT_CALCIUM: {
        "carbonate": _device_form("ca_carbonate"),
        "citrate": _device_form("ca_citrate"),
    },
}
"""supplement -> schedule form name -> (device form, nutrient)."""

DEFAULT_FORMS = {SUPPLEMENT_D3: "cholecalciferol"}
"""D3 has one form, so it may be left out; K2 and calcium must say which form."""

_MICRO_SIGNS = ("µ", "μ")  # MICRO SIGN and GREEK SMALL LETTER MU look identical

UNIT_FACTORS = {
    VITAMIN_D: {"IU": 1, "µg": IU_PER_UG_VITAMIN_D},
    CALCIUM: {"mg": 1},
    MK7: {"µg": 1, "mg": 1000},
    MK4: {"µg": 1, "mg": 1000},
}
"""Device units per schedule unit. MK-7 in mg converts, but K2-FORM rejects it."""


def normalise_unit(unit: str) -> str:
    """Accept ``ug``, ``mcg``, ``μg`` and ``µg`` as the same micrograms unit."""
    if unit in ("ug", "mcg") or (len(unit) == 2 and unit[0] in _MICRO_SIGNS and unit[1] == "g"):
        return "µg"
    return unit


def to_device_units(amount: Decimal | int, nutrient: str, unit: str) -> Fraction:
    """Exact amount in the nutrient's device unit; KeyError if the unit does not apply."""
    return Fraction(amount) * UNIT_FACTORS[nutrient][normalise_unit(unit)]


def format_amount(amount: int, nutrient: str) -> str:
    """Human amount: IU for D3, mg for calcium, and µg or mg for K2."""
    if nutrient == MK4 and amount % 1000 == 0:
        return f"{amount // 1000} mg"
    return f"{amount} {NUTRIENT_UNITS[nutrient]}"
