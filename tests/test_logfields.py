"""The host's words for log records (pillctl.logfields): field names, and the device's record
events named as pillctl's readers see them."""

import json

from dispenser.core import logrec, protocol
from dispenser.core.crc import crc32
from pillctl import logfields
from pillctl.commands.monitor import as_json_line
from pillctl.logfields import FIELD_NAMES, KIND_NAMES, as_dict, named_event
from pillctl.names import Names


def test_as_dict_names_the_fields():
    rec = (4, 1796000000, logrec.DISPENSE, (59897, 0x12, 1, 250))
    assert as_dict(rec) == {
        "seq": 4, "t": 1796000000, "kind": "dispense",
        "dose": 59897, "hopper_nut": 0x12, "pills": 1, "amount": 250,
    }  # fmt: skip
    assert as_dict((5, 0, 99, b"x")) == {"seq": 5, "t": 0, "kind": 99, "raw": "78"}
    assert len(FIELD_NAMES) == len(KIND_NAMES) == len(logrec._FORMATS)


def test_override_records_name_their_signer():
    signer = logrec.signer_bytes(["Dr. Ada Lovelace", "Dr. Grace Hopper"])
    data = logrec.encode(4, 1796000000, logrec.OVERRIDE, (0x12345678, signer))
    record = as_dict(logrec.decode_at(data, 0, len(data)))
    assert record["signer"] == "Dr. Ada Lovelace, Dr. Grace Hopp"
    assert record["hash32"] == 0x12345678


def test_a_bound_override_names_its_digest_and_device():
    digest = bytes(range(32))
    data = logrec.encode(1, 1796000000, logrec.OVERRIDE_BOUND, (digest, b"e6614103e7"))
    record = as_dict(logrec.decode_at(data, 0, len(data)))
    assert record["sha256"] == digest.hex() and record["device"] == "e6614103e7"


def test_a_record_event_reads_as_the_record_it_carries():
    # as the device sends it (dispenser.app.App.record_event), and as it arrives in JSON
    data = logrec.encode(7, 1796000000, logrec.MISSED, (9673,))
    expected = {"seq": 7, "t": 1796000000, "kind": "missed", "entry": 9673}
    assert named_event({"kind": "record", "b64": protocol.b64(data)}) == expected
    assert named_event({"kind": "record", "b64": protocol.b64(data).decode()}) == expected


def test_other_events_and_damaged_records_stay_as_sent():
    press = {"kind": "press", "t": 1796000000, "long": False}
    assert named_event(press) == press
    torn = {"kind": "record", "b64": protocol.b64(b"\x14\x00\x01")}
    assert named_event(torn) == torn
    for odd in ({"kind": "record"}, {"kind": "record", "b64": 5}, {"kind": "record", "b64": "!"}):
        assert named_event(odd) == odd


def test_a_record_this_pillctl_cannot_read_is_kept_raw_and_still_prints_as_json():
    # a newer firmware's kind, and a checkpoint of a layout this pillctl does not read
    names = Names(None)
    for kind in (99, logrec.CHECKPOINT):
        data = bytearray(logrec.encode(9, 0, logrec.CHECKPOINT, b"\x00" * 5))
        data[9] = kind  # the header's kind byte, then the CRC again
        data[-4:] = crc32(data[:-4]).to_bytes(4, "little")
        event = named_event({"kind": "record", "b64": protocol.b64(data)})
        assert event["kind"] == kind and event["raw"] == "00" * 5
        assert json.loads(as_json_line(event, names))["raw"] == "00" * 5


def test_every_error_code_and_maintenance_step_of_the_firmware_has_a_name():
    codes = {v for k, v in vars(logrec).items() if k.startswith("ERR_")}
    steps = {v for k, v in vars(logrec).items() if k.startswith("MAINT_")}
    assert set(logfields.ERROR_NAMES) == codes and set(logfields.MAINTENANCE_STEPS) == steps


def test_pillctl_logs_names_the_error_code_and_the_maintenance_step():
    names = Names(None)
    safe = as_dict((7, 0, logrec.MAINTENANCE, (logrec.MAINT_SAFE_MODE, b"x")))
    taken = as_dict((8, 0, logrec.ERROR, (logrec.ERR_PRESS_TAKEN, 1)))
    assert "step=safe_mode who=x" in names.line(safe)
    assert "code=press_taken detail=1" in names.line(taken)
