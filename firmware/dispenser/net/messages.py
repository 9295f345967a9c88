"""What the dispenser publishes: topics, event and state payloads, Home Assistant discovery.

Pure: no I/O, no clock reads; the publisher passes the time in. Payloads are JSON text.
Topic tree (docs/caregiver-alerts.md):

    pillbox/<id>/availability   online | offline (retained; offline is the last will)
    pillbox/<id>/state          JSON, retained: next dose, stock, adherence, last dose, clock
    pillbox/<id>/event          JSON per log record worth telling (QoS 1, not retained)
    homeassistant/<component>/pillbox_<id>/<object>/config   discovery (retained)
"""

import json

from dispenser import VERSION, logrec
from dispenser.engine import DONE, MISSED
from dispenser.localtime import DAY_S, civil_from_days, local_day

# Log kinds published as events, with the name a caregiver reads. REMIND, CONFIRM and
# CHECKPOINT are the device's own bookkeeping and stay on the device.
EVENT_NAMES = {
    logrec.DISPENSE: "dose_taken",
    logrec.MISSED: "dose_missed",
    logrec.JAM: "jam",
    logrec.LOW: "low_stock",
    logrec.REFUSED: "refused",
    logrec.BOOT: "restarted",
    logrec.CLOCK_SET: "clock_set",
    logrec.REFILL: "refilled",
    logrec.SCHEDULE: "schedule_installed",
    logrec.SNOOZE: "snoozed",
    logrec.ERROR: "error",
}
BOOT_CAUSES = ("power", "watchdog", "soft")


def root(device_id):
    return "pillbox/" + device_id


def iso(t):
    """UTC time as ISO 8601 (what Home Assistant's timestamp sensors take)."""
    y, mo, d = civil_from_days(t // DAY_S)
    s = t % DAY_S
    return "%04d-%02d-%02dT%02d:%02d:%02d+00:00" % (y, mo, d, s // 3600, s // 60 % 60, s % 60)


def _date(day):
    return "%04d-%02d-%02d" % civil_from_days(day)


def entry_name(schedule, key):
    """The schedule id behind a record's 16-bit key (dose, item or slot), or the key."""
    if schedule is not None:
        for entry in schedule.doses + schedule.items + schedule.slots:
            if logrec.id_key(entry.id) == key:
                return entry.id
    return "#%d" % key


def event(record, schedule):
    """The event payload of one log record, or None for kinds that are not published."""
    seq, t, kind, fields = record
    name = EVENT_NAMES.get(kind)
    if name is None:
        return None
    out = {"seq": seq, "event": name, "t": iso(t) if t else None}
    if kind == logrec.DISPENSE:
        out["dose"] = entry_name(schedule, fields[0])
        out["hopper"] = logrec.unpack_hopper(fields[1])
        out["pills"] = fields[2]
    elif kind in (logrec.MISSED, logrec.SNOOZE):
        out["dose"] = entry_name(schedule, fields[0])
    elif kind == logrec.REFUSED:
        out["dose"] = entry_name(schedule, fields[0])
        reason = fields[1]
        out["reason"] = logrec.REASON_NAMES[reason] if reason < len(logrec.REASON_NAMES) else reason
    elif kind == logrec.JAM:
        out["dose"] = entry_name(schedule, fields[0])
        out["hopper"] = fields[1]
        out["delivered"] = fields[2]
    elif kind in (logrec.LOW, logrec.REFILL):
        out["hopper"] = fields[0]
        out["count"] = fields[1]
    elif kind == logrec.BOOT:
        cause = fields[0]
        out["why"] = BOOT_CAUSES[cause] if cause < len(BOOT_CAUSES) else cause
        out["clock"] = "set" if t else "unknown"
    elif kind == logrec.ERROR:
        out["code"] = fields[0]
        out["detail"] = fields[1]
    return json.dumps(out)


def _per_day_x7(schedule, hopper):
    """Pills a hopper gives per week (doses on their weekdays); 7x the daily average."""
    total = 0
    for dose in schedule.doses:
        if dose.comp.hopper == hopper:
            days = dose.days
            count = 0
            while days:
                count += days & 1
                days >>= 1
            total += dose.pills * count
    return total


def state(engine, now, last_dose_t, last_dose_key):
    """The retained state payload."""
    out = {
        "clock": "set" if now is not None else "unknown",
        "next_dose": None,
        "next_dose_at": None,
        "taken_today": 0,
        "missed_today": 0,
        "adherence_today": None,
        "missed": "OFF",
        "jam": "OFF",
        "low_stock": "OFF",
        "last_dose": None,
        "last_dose_at": iso(last_dose_t) if last_dose_t else None,
        "stock": {},
    }
    if engine is None:
        return json.dumps(out)
    schedule = engine.schedule
    if last_dose_key:
        out["last_dose"] = entry_name(schedule, last_dose_key)
    if now is not None:
        for dose_id, _, _, reminder, closes in engine.pending(now):
            if closes >= now:
                out["next_dose"] = dose_id
                out["next_dose_at"] = iso(reminder)
                break
    taken = missed = 0
    for how in engine.resolved.values():
        if how == DONE:
            taken += 1
        elif how == MISSED:
            missed += 1
    out["taken_today"] = taken
    out["missed_today"] = missed
    if taken + missed:
        out["adherence_today"] = taken * 100 // (taken + missed)
    out["missed"] = "ON" if missed else "OFF"
    out["jam"] = "ON" if engine.jam_flags else "OFF"
    out["low_stock"] = "ON" if engine.low_flags else "OFF"
    today = local_day(schedule.utc, now) if now is not None else None
    for comp in schedule.comps:
        count = engine.stock[comp.hopper]
        known = count != logrec.UNKNOWN_STOCK
        weekly = _per_day_x7(schedule, comp.hopper)
        runs_out = None
        if known and weekly and today is not None:
            runs_out = _date(today + count * 7 // weekly)
        out["stock"][comp.id] = {"count": count if known else None, "runs_out": runs_out}
    return json.dumps(out)


def _device(device_id):
    return {
        "identifiers": ["pillbox_" + device_id],
        "name": "Pill dispenser " + device_id[-4:],
        "manufacturer": "Open supplement dispenser",
        "model": "Pico W dispenser",
        "sw_version": VERSION,
    }


def discovery(device_id, schedule):
    """Yield (topic, payload) of every Home Assistant discovery config (retained)."""
    base = root(device_id)
    node = "pillbox_" + device_id
    entities = [
        ("sensor", "next_dose", "Next dose", "{{ value_json.next_dose }}", None, None),
        ("sensor", "next_dose_at", "Next dose at", "{{ value_json.next_dose_at }}",
         "timestamp", None),
        ("sensor", "last_dose_at", "Last dose taken", "{{ value_json.last_dose_at }}",
         "timestamp", None),
        ("sensor", "adherence_today", "Adherence today", "{{ value_json.adherence_today }}",
         None, "%"),
        ("sensor", "clock", "Clock", "{{ value_json.clock }}", None, None),
        ("binary_sensor", "missed", "Missed dose", "{{ value_json.missed }}", "problem", None),
        ("binary_sensor", "jam", "Jam", "{{ value_json.jam }}", "problem", None),
        ("binary_sensor", "low_stock", "Low stock", "{{ value_json.low_stock }}", "problem",
         None),
    ]  # fmt: skip
    if schedule is not None:
        for comp in schedule.comps:
            path = "value_json.stock['%s']" % comp.id
            entities.append(
                ("sensor", "stock_" + comp.id, "Stock " + comp.id,
                 "{{ %s.count }}" % path, None, "pills")
            )  # fmt: skip
            entities.append(
                ("sensor", "runs_out_" + comp.id, "Runs out " + comp.id,
                 "{{ %s.runs_out }}" % path, "date", None)
            )  # fmt: skip
    for component, obj, name, template, device_class, unit in entities:
        config = {
            "name": name,
            "unique_id": node + "_" + obj,
            "default_entity_id": component + "." + node + "_" + obj,
            "state_topic": base + "/state",
            "value_template": template,
            "availability_topic": base + "/availability",
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": _device(device_id),
            "origin": {"name": "pillbox firmware", "sw_version": VERSION},
        }
        if device_class is not None:
            config["device_class"] = device_class
        if unit is not None:
            config["unit_of_measurement"] = unit
        if component == "binary_sensor":
            config["payload_on"] = "ON"
            config["payload_off"] = "OFF"
        yield "homeassistant/%s/%s/%s/config" % (component, node, obj), json.dumps(config)
