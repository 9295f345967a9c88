"""What the dispenser publishes: topics, event and state payloads, Home Assistant discovery.

Pure: no I/O, no clock reads; the publisher passes the time in. Payloads are JSON text.
Topic tree (docs/caregiver-alerts.md):

    pillbox/<id>/availability   online | offline (retained; offline is the last will)
    pillbox/<id>/state          JSON, retained: next dose, stock, adherence, last dose, clock
    pillbox/<id>/event          JSON per log record worth telling (QoS 1, not retained)
    homeassistant/<component>/pillbox_<id>/<object>/config   discovery (retained)
"""

import json

from dispenser import VERSION
from dispenser.core import forecast, logrec
from dispenser.core.localtime import DAY_S, civil_from_days, local_day

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
# A compartment as a person names it: its supplement (by nutrient code, nutrients.NUTRIENTS).
SUPPLEMENT_NAMES = ("vitamin D3", "calcium", "vitamin K2 (MK-7)", "vitamin K2 (MK-4)")


def root(device_id):
    return "pillbox/" + device_id


def iso(t):
    """UTC time as ISO 8601 (what Home Assistant's timestamp sensors take)."""
    y, mo, d = civil_from_days(t // DAY_S)
    s = t % DAY_S
    return "%04d-%02d-%02dT%02d:%02d:%02d+00:00" % (y, mo, d, s // 3600, s // 60 % 60, s % 60)


def entry_name(schedule, key):
    """The schedule id behind a record's 16-bit key (dose, item or slot), or the key."""
    if schedule is not None:
        for entry in schedule.doses + schedule.items + schedule.slots:
            if logrec.id_key(entry.id) == key:
                return entry.id
    return "#%d" % key


def supplement_name(schedule, comp):
    """`vitamin D3`; with the compartment's id, `calcium (ca2)`, when two hold the same."""
    name = SUPPLEMENT_NAMES[comp.nut]
    for other in schedule.comps:
        if other is not comp and other.nut == comp.nut:
            return name + " (" + comp.id + ")"
    return name


def _name_dose(out, schedule, key):
    """A dose's (or item's) id and the meal it belongs to, as the schedule names them."""
    if schedule is not None:
        for entry in schedule.doses + schedule.items:
            if entry.key == key:
                out["dose"] = entry.id
                out["meal"] = schedule.slots[entry.slot].id
                return
    out["dose"] = "#%d" % key


def _name_hopper(out, schedule, hopper):
    """A hopper as its compartment's id and supplement (the number only without one)."""
    comp = schedule.comp_for_hopper(hopper) if schedule is not None else None
    if comp is None:
        out["hopper"] = hopper
    else:
        out["compartment"] = comp.id
        out["supplement"] = supplement_name(schedule, comp)


def event(record, schedule):
    """The event payload of one log record, or None for kinds that are not published."""
    seq, t, kind, fields = record
    name = EVENT_NAMES.get(kind)
    if name is None:
        return None
    out = {"seq": seq, "event": name, "t": iso(t) if t else None}
    if kind == logrec.DISPENSE:
        _name_dose(out, schedule, fields[0])
        _name_hopper(out, schedule, logrec.unpack_hopper(fields[1]))
        out["pills"] = fields[2]
    elif kind == logrec.MISSED:
        _name_dose(out, schedule, fields[0])
    elif kind == logrec.SNOOZE:  # a snooze names the meal's slot
        out["meal"] = entry_name(schedule, fields[0])
    elif kind == logrec.REFUSED:
        _name_dose(out, schedule, fields[0])
        reason = fields[1]
        out["reason"] = logrec.REASON_NAMES[reason] if reason < len(logrec.REASON_NAMES) else reason
    elif kind == logrec.JAM:
        _name_dose(out, schedule, fields[0])
        _name_hopper(out, schedule, fields[1])
        out["delivered"] = fields[2]
    elif kind in (logrec.LOW, logrec.REFILL):
        _name_hopper(out, schedule, fields[0])
        out["count"] = fields[1]
    elif kind == logrec.BOOT:
        cause = fields[0]
        names = logrec.BOOT_CAUSE_NAMES
        out["why"] = names[cause] if cause < len(names) else cause
        out["clock"] = "set" if t else "unknown"
    elif kind == logrec.ERROR:
        out["code"] = fields[0]
        out["detail"] = fields[1]
    return json.dumps(out)


def state(engine, now, last_dose_t, last_dose_key):
    """The retained state payload."""
    out = {
        "clock": "set" if now is not None else "unknown",
        "schedule": None,  # its name as written (UTF-8)
        "next_dose": None,
        "next_dose_at": None,
        "taken_today": 0,
        "refused_today": 0,
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
    out["schedule"] = schedule.name
    if last_dose_key:
        out["last_dose"] = entry_name(schedule, last_dose_key)
    if now is not None:
        for dose_id, _, _, reminder, closes in engine.pending(now):
            if closes >= now:
                out["next_dose"] = dose_id
                out["next_dose_at"] = iso(reminder)
                break
    # Today's tally and the run-out dates: the same functions as `status` and the report.
    today = local_day(schedule.utc, now) if now is not None else -1
    taken, refused, missed = forecast.today_counts(engine, today)
    out["taken_today"] = taken
    out["refused_today"] = refused
    out["missed_today"] = missed
    out["adherence_today"] = forecast.percent(taken, taken + refused + missed)
    out["missed"] = "ON" if missed or refused else "OFF"  # a dose of today not taken
    out["jam"] = "ON" if engine.jam_flags else "OFF"
    out["low_stock"] = "ON" if engine.low_flags else "OFF"
    for comp in schedule.comps:
        count = engine.stock[comp.hopper]
        runs_out = forecast.date_text(forecast.run_out_day(engine, comp.hopper, today))
        known = count != logrec.UNKNOWN_STOCK
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
        ("sensor", "schedule", "Schedule", "{{ value_json.schedule }}", None, None),
        ("binary_sensor", "missed", "Missed dose", "{{ value_json.missed }}", "problem", None),
        ("binary_sensor", "jam", "Jam", "{{ value_json.jam }}", "problem", None),
        ("binary_sensor", "low_stock", "Low stock", "{{ value_json.low_stock }}", "problem",
         None),
    ]  # fmt: skip
    if schedule is not None:
        for comp in schedule.comps:
            path = "value_json.stock['%s']" % comp.id
            name = supplement_name(schedule, comp)
            entities.append(
                ("sensor", "stock_" + comp.id, name + " stock",
                 "{{ %s.count }}" % path, None, "pills")
            )  # fmt: skip
            entities.append(
                ("sensor", "runs_out_" + comp.id, name + " runs out",
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
