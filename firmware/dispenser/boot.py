"""What only a boot runs, for Controller.boot: load the schedule, replay the log into the
engine, log the boot, read the set-up files. Resident only for the boot (compat.Transient),
like the schedule check and the set-up files it uses.
"""

from dispenser import setupfiles
from dispenser.core import logrec
from dispenser.core.engine import ScheduleError


def boot(controller):
    """Controller.boot's work on `controller`; returns the last self-test (setupfiles)."""
    now = controller.clock.now()
    rejected = None
    try:
        schedule = controller.load_schedule()
    except ScheduleError as exc:
        schedule, rejected = None, exc
    if schedule is not None:
        controller.start_engine(schedule, now)
    t = now or 0
    controller.append(t, logrec.BOOT, (logrec.boot_cause(controller.board.reset_cause),))
    engine = controller.engine
    skipped = controller.store.skipped_bytes + (engine.unread_bytes if engine else 0)
    if skipped:
        controller.append(t, logrec.ERROR, (logrec.ERR_LOG_CORRUPT, min(skipped, 65535)))
    if rejected is not None:
        controller.append(t, logrec.ERROR, (logrec.ERR_SCHEDULE_REJECTED, rejected.code))
    last_selftest = _set_up(controller, t)
    if not controller.overrides_applied:  # no confirmation here: held to normal limits
        controller.append(t, logrec.ERROR, (logrec.ERR_OVERRIDE_UNBOUND, 0))
    if engine is not None and engine.schedule_hash != engine.schedule.hash_prefix():
        # A power cut between the schedule file's rename and its SCHEDULE record: log it
        # now, so the log names the active schedule. Its true time lies between the last
        # record and now; dated now, the windows closed meanwhile (the board was off and
        # reminded nobody) are excused rather than logged as missed.
        controller.decide(t, engine.install, t, engine.schedule)
    return last_selftest


def _set_up(controller, t):
    """The servo calibration and the last self-test from the flash. A rejected
    calibration is logged; the board's stay."""
    try:
        pairs = setupfiles.load()
    except setupfiles.CalibrationError as exc:
        controller.append(t, logrec.ERROR, (logrec.ERR_CALIBRATION_REJECTED, exc.args[0]))
        pairs = None
    if pairs is not None:
        setupfiles.apply(controller.servos, pairs)
    return setupfiles.load_selftest()
