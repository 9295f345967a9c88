"""The short power-cut and fault campaign: the same harness as `make soak`, about 100 cuts
with a fixed seed, so CI guards every invariant it checks (docs/soak.md)."""

from __future__ import annotations

import pytest
from soak.campaign import describe, report, run_campaign

SEED = 9
CYCLES = 100
# Boards side by side: a cycle mostly waits on its board (servo ramps, boots, the watchdog),
# so eight share the two cores' CPU (about 30 s for the whole campaign) without crowding it.
WORKERS = 8


# One worker's boards once went silent for good after a cut mid-rotation (seed 9 cycle 12):
# the cut closed the old board's pty under the sim relay's select(), the relay thread died,
# and no later boot of that worker had a serial line. Only the relay closes it now
# (tests/test_sim_relay.py); a dead-board failure names any sim thread that died.
def test_short_soak_campaign_keeps_every_invariant(tmp_path):
    lines: list[str] = []
    figures = run_campaign(SEED, list(range(CYCLES)), workers=WORKERS, workdir=tmp_path,
                           progress=lines.append)  # fmt: skip
    report(figures, progress=lines.append)
    print("\n".join(lines))
    assert figures.cuts == CYCLES
    if not figures.ok:
        pytest.fail("\n".join(describe(result) for result in figures.failed), pytrace=False)
