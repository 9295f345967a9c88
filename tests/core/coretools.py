"""Helpers shared by the pure-core tests (runs under CPython and MicroPython alike)."""

import hashlib
import json
import os
import random
from binascii import hexlify

from dispenser.core import localtime, logrec, schedule
from dispenser.core.engine import Engine

DATA = __file__.rsplit("/", 2)[0] + "/data/device/bone-health.json"
# A Friday inside the bone-health offset table (winter time, UTC+1).
DAY = 20791


def bone_health_bytes():
    with open(DATA, "rb") as f:
        return f.read()


def bone_health_obj():
    return json.loads(bone_health_bytes())


def _dumps(value):
    """JSON with UTF-8 as written, as pillctl compiles it: MicroPython's json.dumps writes it
    so (and takes no ensure_ascii), CPython's must be asked."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return json.dumps(value)


def _canonical(value):
    # MicroPython's json.dumps has no sort_keys, so the canonical form is built here.
    if isinstance(value, dict):
        keys = sorted(value)
        return "{" + ",".join(_dumps(k) + ":" + _canonical(value[k]) for k in keys) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    return _dumps(value)


def schedule_bytes(obj):
    """Device schedule file bytes for `obj` (any sha256 member is recomputed)."""
    body = dict(obj)
    body.pop("sha256", None)
    canon = _canonical(body).encode()
    digest = hexlify(hashlib.sha256(canon).digest())
    return canon[:-1] + b',"sha256":"' + digest + b'"}'


def levo_spacing_obj():
    """bone-health plus a morning levothyroxine reminder whose confirmation holds the
    calcium back for 4 hours (CA-LEVO spacing)."""
    obj = bone_health_obj()
    obj["slots"].insert(0, {"at": 360, "early": 0, "fat": 0, "id": "levo", "late": 45, "meal": 0})
    obj["items"] = [{"days": 127, "id": "levo", "med": "l", "name": "L", "slot": "levo"}]
    obj["spacing"] = [{"gap": 240, "item": "levo", "nut": "ca", "rule": "CA-LEVO"}]
    return obj


def parse(obj):
    return schedule.parse(schedule_bytes(obj))


def at(sched, day, minute, second=0):
    """UTC time of local `minute` on `day`."""
    return localtime.to_utc(sched.utc, day, minute) + second


def fresh_engine(sched=None, records=()):
    engine = Engine(sched or schedule.parse(bone_health_bytes()))
    engine.restore(records)
    engine.clock_known = True
    return engine


def kinds(events):
    return [e[1] for e in events]


def as_records(events, first_seq=1):
    """Events as the (seq, t, kind, fields) records a log would give back."""
    return [(first_seq + i, e[0], e[1], e[2]) for i, e in enumerate(events)]


def dispensed_keys(events):
    return [e[2][0] for e in events if e[1] == logrec.DISPENSE]


def temp_dir():
    path = "/tmp/dispenser-test-" + str(random.getrandbits(30))
    os.mkdir(path)
    return path


def remove_tree(path):
    for name in os.listdir(path):
        os.remove(path + "/" + name)
    os.rmdir(path)
