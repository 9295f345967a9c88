"""A board left running in real time: the reminder, its escalation and the cut-off happen on
their second, with the clock at wall speed and never stepped (DESIGN.md invariant 13).

Every other end-to-end test steps the simulated clock, which skips the naps the schedule
task takes between events. Here the board is left alone for about two and a half minutes,
as it is in a kitchen (tests/realtime.py): its own log must then hold each record within
2 s of its second, no ERROR record and no second boot. On the sim before this test, the
schedule task's last nap before each event never ended (a float timeout killed the nap's
alarm task), so the watchdog reset the board and the miss was logged a minute late.
"""

from __future__ import annotations

from realtime import meal_board, records, timeline_problems, wait_for_the_miss


def test_a_board_left_running_reminds_escalates_and_misses_on_the_second(tmp_path):
    with meal_board(tmp_path / "board") as sim:
        wait_for_the_miss(sim)
        logged = records(sim)
    assert timeline_problems(logged) == [], logged
