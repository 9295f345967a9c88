"""Adherence from a device's stored log: every scheduled instance, classified.

An instance is a dose or reminder-only item of the schedule on one local day (the days
bitmask and from/to range decide which exist; `dispenser.core.windows.occurs_on`). Records name
it by `logrec.id_key(id)` and the local day of their time, from the schedule's UTC offset
table. A dose instance is:

- on time: dispensed no later than LATE_AFTER_MIN minutes after the slot's `at` (so anywhere
  from the window's opening, `at - early`, to `at + 30 min`);
- late: dispensed more than LATE_AFTER_MIN minutes after `at` (by then the reminder has
  escalated to its loudest step); the device only dispenses inside the window, or inside
  the window a spacing rule extended;
- refused: not dispensed, and the device refused it at least once that day; the reason of
  the last refusal is shown (cap, spacing, empty, jammed);
- missed: a missed record, or no dispense by the window's close while the log goes on past it
  (the device was off, say);
- pending: the window had not closed by the last stored record: not counted yet;
- not counted either: a dose whose window had closed before its schedule was installed, or
  before the device's clock was known (the device never reminded of it, and does not log it
  as missed).

Which of these an instance is (taken, refused, missed, pending, not counted) is the firmware
core's decision (`dispenser.core.forecast.day_outcomes`, from the verdicts of the device's own
Engine replaying the log), the same one the device's `status` and MQTT state use for today.

A reminder-only item is confirmed (a confirm record) or missed (as above). Adherence is
(on time + late + confirmed) / every counted instance.

Which schedule judges a day: the one in force at the day's end. Schedules are known by the
SCHEDULE records (their hash prefix) matched to the saved schedules; when the log holds no
such record for any saved schedule (rotated away), each saved schedule is taken to be in
force from its compile day. Days before the first timed record, or with no schedule, are
not counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from dispenser.core import forecast, logrec
from dispenser.core.engine import Engine
from dispenser.core.localtime import MIN_VALID_TIME, MINUTE_S, local_day, to_utc, weekday
from dispenser.core.schedule import Schedule, ScheduleError, build
from pillctl.devicename import device_name
from pillctl.errors import PillctlError
from pillctl.history import DeviceHistory
from pillctl.logfields import as_event
from pillctl.names import Names
from pillctl.runout import RunOut
from pillctl.schedule.refusal import explain

LATE_AFTER_MIN = 30

ON_TIME = "on time"
LATE = "late"
REFUSED = "refused"
MISSED = "missed"
CONFIRMED = "confirmed"
PENDING = "pending"
SYMBOLS = {
    "on time": "✓",
    "late": "✓",
    "confirmed": "✓",
    "refused": "⊘",
    "missed": "✗",
    "pending": "…",
}
TAKEN = (ON_TIME, LATE, CONFIRMED)
STATUSES = (ON_TIME, LATE, CONFIRMED, REFUSED, MISSED)  # the counted ones, report order

# Colour bands of a day's adherence, best first: (lowest percent, colour, legend label).
# Light fills under black text, each at least 7:1 (WCAG AA asks 4.5:1); every cell also
# says its figures in text and symbols, so colour is never the only cue.
BANDS = (
    (100, "#a6dba0", "100%"),
    (90, "#d9f0d3", "90-99%"),
    (75, "#fee08b", "75-89%"),
    (50, "#fdb863", "50-74%"),
    (0, "#f4a582", "under 50%"),
)
TEXT_COLOUR = "#000000"
PENDING_COLOUR = "#ffffff"
NO_DATA_COLOUR = "#e0e0e0"

_EPOCH = date(1970, 1, 1)


def day_colour(day: DayResult) -> str:
    """A day still under way is white: its percentage is not final."""
    return PENDING_COLOUR if day.pending else band_colour(day.percent)


def band_colour(percent: float | None) -> str:
    if percent is None:
        return NO_DATA_COLOUR
    for lowest, colour, _ in BANDS:
        if percent >= lowest:
            return colour
    return BANDS[-1][1]


def day_date(day: int) -> date:
    """Calendar date of a local day number."""
    return _EPOCH + timedelta(days=day)


def _percent(taken: int, counted: int) -> float | None:
    return round(100 * taken / counted, 1) if counted else None


@dataclass(frozen=True)
class Instance:
    entry_id: str
    slot_id: str
    reminder_only: bool
    day: int
    status: str
    t: int | None = None  # UTC time of the record that decided it
    reason: str | None = None  # why the device refused it


@dataclass
class DayResult:
    day: int
    instances: list[Instance]

    @property
    def counts(self) -> Counter:
        return Counter(i.status for i in self.instances if i.status != PENDING)

    @property
    def percent(self) -> float | None:
        counts = self.counts
        return _percent(sum(counts[s] for s in TAKEN), sum(counts.values()))

    @property
    def pending(self) -> int:
        return sum(i.status == PENDING for i in self.instances)

    @property
    def taken(self) -> int:
        return sum(i.status in TAKEN for i in self.instances)

    def label(self) -> str:
        """What the day's cell says, readable without its colour: `75% (3/4)`, or while
        doses are still to come `2/4 so far` (a day is not 100% before it is over)."""
        due = len(self.instances)
        if not due:
            return "no doses"
        if self.pending:
            return f"{self.taken}/{due} so far"
        counts = self.counts
        return f"{forecast.percent(self.taken, sum(counts.values()))}% ({self.taken}/{due})"

    def marks(self) -> str:
        """One symbol per dose not taken: ✗ missed, ⊘ refused, … pending."""
        counts = Counter(i.status for i in self.instances)
        return "".join(SYMBOLS[s] * counts[s] for s in (MISSED, REFUSED, PENDING))


@dataclass
class EntryResult:
    entry_id: str
    slot_id: str
    reminder_only: bool
    counts: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)

    @property
    def counted(self) -> int:
        return sum(self.counts[s] for s in STATUSES)

    @property
    def percent(self) -> float | None:
        return _percent(sum(self.counts[s] for s in TAKEN), self.counted)

    @property
    def whole_percent(self) -> int | None:
        """Whole percent taken, rounded as the device's status and MQTT state round it."""
        return forecast.percent(sum(self.counts[s] for s in TAKEN), self.counted)


@dataclass
class Report:
    device_id: str
    days: list[DayResult]
    entries: list[EntryResult]
    overrides: list[dict]
    schedule_names: list[str]
    name: str | None = None  # `pillctl name`
    run_out: list[str] = field(default_factory=list)  # per compartment, at the log's end
    meals: dict[str, str] = field(default_factory=dict)  # slot id -> meal or clock time
    what: dict[str, str] = field(default_factory=dict)  # dose id -> supplement / item name
    selftest: dict | None = None  # the log's last SELFTEST record (`pillctl selftest`)

    @property
    def title(self) -> str:
        return self.name or f"dispenser {self.device_id}"

    @property
    def pending(self) -> int:
        return sum(day.pending for day in self.days)

    def overall(self) -> str:
        """`Overall 84% taken (21 of 25 doses)`, and what is still to come; never `-`."""
        counts = self.counts
        counted = sum(counts.values())
        taken = sum(counts[s] for s in TAKEN)
        text = (
            f"Overall {forecast.percent(taken, counted)}% taken ({taken} of {counted} doses)"
            if counted
            else "No dose was due yet"
        )
        return text + (f"; {self.pending} still to come" if self.pending else "")

    def meal(self, slot_id: str) -> str:
        return self.meals.get(slot_id, slot_id)

    def dose_name(self, entry_id: str) -> str:
        """A dose as the schedule names what it gives (`calcium carbonate`)."""
        return self.what.get(entry_id, entry_id)

    @property
    def has_reasons(self) -> bool:
        return any(e.reasons for e in self.entries)

    @property
    def first(self) -> date:
        return day_date(self.days[0].day)

    @property
    def last(self) -> date:
        return day_date(self.days[-1].day)

    @property
    def counts(self) -> Counter:
        total: Counter = Counter()
        for day in self.days:
            total.update(day.counts)
        return total

    @property
    def percent(self) -> float | None:
        counts = self.counts
        return _percent(sum(counts[s] for s in TAKEN), sum(counts.values()))

    @property
    def shown_statuses(self) -> tuple[str, ...]:
        """The per-dose table's status columns: "confirmed" only with reminder-only items."""
        if any(e.reminder_only for e in self.entries):
            return STATUSES
        return tuple(s for s in STATUSES if s != CONFIRMED)

    def summary(self) -> str:
        counts = self.counts
        return ", ".join(f"{counts[s]} {s}" for s in self.shown_statuses)

    def as_json(self) -> dict:
        return {
            "device": self.device_id,
            "name": self.name,
            "pending": self.pending,
            "run_out": self.run_out,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "late_after_min": LATE_AFTER_MIN,
            "percent": self.percent,
            "counts": dict(self.counts),
            "schedules": self.schedule_names,
            "overrides": self.overrides,
            "selftest": self.selftest,
            "days": [
                {
                    "date": day_date(d.day).isoformat(),
                    "percent": d.percent,
                    "counts": dict(d.counts),
                }
                for d in self.days
            ],
            "doses": [
                {
                    "id": e.entry_id,
                    "slot": e.slot_id,
                    "reminder_only": e.reminder_only,
                    "percent": e.percent,
                    "counts": dict(e.counts),
                    "refused": dict(e.reasons),
                }
                for e in self.entries
            ],
        }


def calendar_weeks(report: Report) -> list[list[DayResult | None]]:
    """The report's days as weeks, Monday to Sunday; None where a day is outside the report
    (before its first day, after its last) or was not judged."""
    by_day = {d.day: d for d in report.days}
    first = report.days[0].day - weekday(report.days[0].day)
    last = report.days[-1].day
    return [
        [by_day.get(day) for day in range(monday, monday + 7)]
        for monday in range(first, last + 1, 7)
    ]


@dataclass(frozen=True)
class _Period:
    start: int  # UTC time from which the schedule is in force
    schedule: Schedule
    source: dict  # the saved JSON, for what the firmware's Schedule does not keep (ovr)


def _load_schedules(history: DeviceHistory) -> list[tuple[Schedule, dict]]:
    loaded = []
    for obj in history.schedules():
        try:
            loaded.append((build(obj, obj["sha256"]), obj))
        except (ScheduleError, KeyError) as exc:
            why = explain(exc, obj) if isinstance(exc, ScheduleError) else exc
            raise PillctlError(
                f"a saved schedule of {history.device_id} is not valid ({why}); "
                f"remove it from {history.path / 'schedules'}"
            ) from exc
    return loaded


def _periods(records: list[dict], schedules: list[tuple[Schedule, dict]]) -> list[_Period]:
    """When each schedule came into force, from every stored record (in log order). One
    installed while the clock was unknown counts from the next record with a set clock (the
    `time sync` that followed): the device judged nothing before then."""
    by_prefix = {sched.hash_prefix(): (sched, obj) for sched, obj in schedules}
    installed = []
    waiting = None  # a schedule installed with an unknown clock
    for r in records:
        if not isinstance(r["t"], int):
            continue
        if r["kind"] == "schedule" and r["hash32"] in by_prefix:
            waiting = by_prefix[r["hash32"]]
        if waiting is not None and r["t"] >= MIN_VALID_TIME:
            installed.append(_Period(r["t"], *waiting))
            waiting = None
    if installed:
        return installed
    return [_Period(sched.utc[0][0], sched, obj) for sched, obj in schedules]


def _period_at(periods: list[_Period], t: int) -> _Period | None:
    found = None
    for period in periods:
        if period.start <= t:
            found = period
    return found


def _judging_period(periods: list[_Period], day: int) -> _Period | None:
    """The period whose schedule is in force at the end of local `day`."""
    for period in reversed(periods):
        if period.start < to_utc(period.schedule.utc, day + 1, 0):
            return period
    return None


@dataclass
class _Replay:
    """The firmware's own Engine fed the log, as the device replays it at boot."""

    engine: Engine
    day_ends: dict[int, tuple[dict, dict]]  # local day -> (resolved, refusals) at its end


def _replay(timed: list[dict], periods: list[_Period]) -> _Replay:
    day_ends: dict[int, tuple[dict, dict]] = {}

    def day_end(engine: Engine) -> None:
        day_ends[engine.day] = (dict(engine.resolved), dict(engine.refusals))

    engine = Engine(periods[0].schedule, on_day_end=day_end)
    engine.restore((), clock_known=True)  # only records with a set clock are replayed
    upcoming = list(periods[1:])
    for record in timed:
        t, kind, fields = as_event(record)
        while upcoming and upcoming[0].start <= t:
            # The schedule switch the device made: its SCHEDULE event excuses closed windows.
            engine.install(upcoming[0].start, upcoming.pop(0).schedule)
        if kind:
            engine.apply(t, kind, fields)
    # Let time pass to the last record, as the running device would have: what was still
    # open then is pending, what closed is missed, with the engine's own (spacing-stretched)
    # windows.
    engine.tick(timed[-1]["t"])
    if engine.day >= 0:
        day_end(engine)
    return _Replay(engine, day_ends)


def _refusal(base: dict, refusals: list[dict]) -> Instance:
    if not refusals:  # refused before the stored log begins
        return Instance(**base, status=REFUSED)
    code = refusals[-1]["reason"]
    names = logrec.REASON_NAMES
    reason = names[code] if 0 < code < len(names) else f"code {code}"
    return Instance(**base, status=REFUSED, t=refusals[-1]["t"], reason=reason)


def _classify(entry, day, sched, events, found) -> Instance:
    """One instance of `entry` on `day`, whose outcome (dispenser.core.forecast) is `found`,
    told with the records that decided it: when, on time or late, why refused."""
    slot = sched.slots[entry.slot]
    reminder_only = entry.comp is None
    base = {"entry_id": entry.id, "slot_id": slot.id, "reminder_only": reminder_only, "day": day}
    if found == forecast.TAKEN:
        taken = [e for e in events if e["kind"] == ("confirm" if reminder_only else "dispense")]
        t = taken[0]["t"] if taken else None
        if reminder_only:
            return Instance(**base, status=CONFIRMED, t=t)
        late_after = to_utc(sched.utc, day, slot.at) + LATE_AFTER_MIN * MINUTE_S
        return Instance(**base, status=ON_TIME if t is None or t <= late_after else LATE, t=t)
    if found == forecast.PENDING:
        return Instance(**base, status=PENDING)
    if found == forecast.REFUSED:
        return _refusal(base, [e for e in events if e["kind"] == "refused"])
    missed = [e for e in events if e["kind"] == "missed"]
    # No missed record on a day that is over: the device was off when the window closed.
    return Instance(**base, status=MISSED, t=missed[0]["t"] if missed else None)


_ENTRY_FIELD = {"dispense": "dose", "refused": "dose", "missed": "entry", "confirm": "item"}


def build_report(history: DeviceHistory, days: int | None = None) -> Report:
    """Classify every scheduled instance of the stored log (the last `days` days only, if
    given) for `history`'s device, by replaying the log through the firmware's Engine."""
    records = history.records()
    timed = [r for r in records if isinstance(r["t"], int) and r["t"] >= MIN_VALID_TIME]
    if not timed:
        raise PillctlError(
            f"no records with a set clock stored for {history.device_id}: "
            "run `pillctl time sync`, then `pillctl logs`"
        )
    schedules = _load_schedules(history)
    if not schedules:
        raise PillctlError(
            f"no schedule saved for {history.device_id}, so its log cannot be read as doses: "
            "run `pillctl logs` again to fetch it"
        )
    periods = _periods(records, schedules)
    fallback = periods[0]
    replay = _replay(timed, periods)

    def day_of(t: int) -> int:
        return local_day((_period_at(periods, t) or fallback).schedule.utc, t)

    events: dict[tuple[int, int], list[dict]] = {}
    for record in timed:
        key_field = _ENTRY_FIELD.get(record["kind"])
        if key_field:
            events.setdefault((day_of(record["t"]), record[key_field]), []).append(record)

    last_t = timed[-1]["t"]
    first_day, last_day = day_of(timed[0]["t"]), day_of(last_t)
    if days is not None:
        first_day = max(first_day, last_day - days + 1)
    results: list[DayResult] = []
    entries: dict[str, EntryResult] = {}
    used: list[_Period] = []
    for day in range(first_day, last_day + 1):
        period = _judging_period(periods, day)
        if period is None:
            continue
        if period not in used:
            used.append(period)
        sched = period.schedule
        resolved, refusals = replay.day_ends.get(day, ({}, {}))
        instances = [
            _classify(entry, day, sched, events.get((day, entry.key), []), found)
            for entry, found in forecast.day_outcomes(
                sched, day, resolved, refusals, day != last_day
            )
        ]
        results.append(DayResult(day, instances))
        for inst in instances:
            result = entries.setdefault(
                inst.entry_id, EntryResult(inst.entry_id, inst.slot_id, inst.reminder_only)
            )
            result.counts[inst.status] += 1
            if inst.reason:
                result.reasons[inst.reason] += 1
    if not results:
        raise PillctlError(f"no day of {history.device_id}'s log has a saved schedule to judge it")
    overrides: list[dict] = []
    for period in used:
        for override in period.source.get("ovr", []):
            if override not in overrides:
                overrides.append(override)
    names = list(dict.fromkeys(p.schedule.name for p in used))
    latest = Names(used[-1].source)
    return Report(
        history.device_id,
        results,
        list(entries.values()),
        overrides,
        names,
        name=device_name(history),
        run_out=_run_out_lines(replay.engine, latest, last_day),
        meals={slot_id: latest.slot(slot_id) for slot_id in latest.slots},
        what={entry.entry_id: latest.what(entry.entry_id) for entry in entries.values()},
        selftest=next((r for r in reversed(records) if r["kind"] == "selftest"), None),
    )


def _run_out_lines(engine: Engine, names: Names, today: int) -> list[str]:
    """`d3 (vitamin D3): 62 pills, runs out 2027-01-28, in 60 days`, per compartment, from
    the stock the engine holds at the log's end (dispenser.core.forecast, as the device says)."""
    lines = []
    for comp in engine.schedule.comps:
        stock = engine.stock[comp.hopper]
        label = names.hopper(comp.hopper)
        if stock == logrec.UNKNOWN_STOCK:
            lines.append(f"{label}: stock unknown (no refill logged)")
            continue
        found = RunOut(forecast.run_out_day(engine, comp.hopper, today))
        lines.append(f"{label}: {stock} pills, runs out {found.text(today)}")
    return lines
