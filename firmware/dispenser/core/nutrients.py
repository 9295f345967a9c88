"""Nutrient ids, pill forms, the firmware's absolute daily caps and its ceilings.

A nutrient's position in NUTRIENTS is its code in log records and engine state. The host
(pillctl) takes these tables from here, so the two sides cannot disagree.
"""

NUTRIENTS = ("vitd", "ca", "mk7", "mk4")

# Absolute daily caps in each nutrient's device unit (IU, mg, ug, ug); None = no cap.
# They apply unless the schedule carries a clinician override naming the rule, confirmed on
# the device with a button hold (docs/safety-rules.md).
ABSOLUTE_CAPS = (4000, 2500, None, 45000)
OVERRIDE_RULES = ("D3-UL", "CA-UL", None, "MK4-MAX")

# Ceilings no schedule and no override lifts (docs/safety-rules.md, "Device ceilings").
# Per local day, None = only the rolling window below applies.
CEILINGS = (None, 3000, None, 90000)
D_DOSE_CEILING = 50000  # IU of vitamin D in one dose
D_WEEK_CEILING = 70000  # IU of vitamin D in any 7 consecutive local days
WEEK_DAYS = 7

# Pill form -> the nutrient it carries.
FORMS = {"d3": 0, "ca_carbonate": 1, "ca_citrate": 1, "mk7": 2, "mk4": 3}


def nutrient_code(name):
    """Code of nutrient `name`, or -1 when the firmware does not know it."""
    for code in range(len(NUTRIENTS)):
        if NUTRIENTS[code] == name:
            return code
    return -1
