"""Nutrient ids, pill forms and the firmware's absolute daily caps.

A nutrient's position in NUTRIENTS is its code in log records and engine state.
"""

NUTRIENTS = ("vitd", "ca", "mk7", "mk4")

# Absolute daily caps in each nutrient's device unit (IU, mg, ug, ug); None = no cap.
# They apply unless the schedule carries a clinician override naming the rule.
ABSOLUTE_CAPS = (4000, 2500, None, 45000)
OVERRIDE_RULES = ("D3-UL", "CA-UL", None, "MK4-MAX")

# Pill form -> the nutrient it carries.
FORMS = {"d3": 0, "ca_carbonate": 1, "ca_citrate": 1, "mk7": 2, "mk4": 3}


def nutrient_code(name):
    """Code of nutrient `name`, or -1 when the firmware does not know it."""
    for code in range(len(NUTRIENTS)):
        if NUTRIENTS[code] == name:
            return code
    return -1
