"""What only a boot runs, for Controller.boot: load the schedule, replay the log into the
engine, log the boot. Imported for the boot and unloaded after it (compat.unload, issue 8's
memory rule), like the schedule check it calls.
"""

from dispenser import logrec
from dispenser.engine import ScheduleError

_BOOT_CAUSES = {"power": logrec.BOOT_POWER_ON, "wdt": logrec.BOOT_WATCHDOG}


def boot(controller):
    """Controller.boot's work on `controller`."""
    now = controller.clock.now()
    rejected = None
    try:
        schedule = controller.schedstore(lambda s: s.load(s.SCHEDULE_PATH))
    except ScheduleError as exc:
        schedule, rejected = None, exc
    if schedule is not None:
        controller._start_engine(schedule, now)
    t = now or 0
    cause = _BOOT_CAUSES.get(controller.board.reset_cause, logrec.BOOT_SOFT)
    controller.append(t, logrec.BOOT, (cause,))
    store = controller.store
    if store.skipped_bytes:
        controller.append(
            t, logrec.ERROR, (logrec.ERR_LOG_CORRUPT, min(store.skipped_bytes, 65535))
        )
    if rejected is not None:
        controller.append(t, logrec.ERROR, (logrec.ERR_SCHEDULE_REJECTED, 0))
    if not controller.overrides_applied:  # no confirmation here: held to normal limits
        controller.append(t, logrec.ERROR, (logrec.ERR_OVERRIDE_UNBOUND, 0))
    engine = controller.engine
    if engine is not None and engine.schedule_hash != engine.schedule.hash_prefix():
        # A power cut between the schedule file's rename and its SCHEDULE record: log it
        # now, so the log names the active schedule. Its true time lies between the last
        # record and now; dated now, the windows closed meanwhile (the board was off and
        # reminded nobody) are excused rather than logged as missed.
        controller._decide(t, engine.install, t, engine.schedule)
