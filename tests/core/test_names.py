"""Names as people write them: the schedule's and the reminder items' names are UTF-8,
counted in bytes against the device's limit; control characters and invalid UTF-8 are
refused. Runs under CPython and the MicroPython unix port alike."""

import hashlib
from binascii import hexlify

from coretools import bone_health_obj, parse, schedule_bytes

from dispenser.core import schedule
from dispenser.core.engine import ScheduleError


def _with_names(name, item_name="L-Thyroxin 50 \u00b5g"):
    obj = bone_health_obj()
    obj["name"] = name
    obj["slots"].insert(0, {"at": 360, "early": 0, "fat": 0, "id": "levo", "late": 30, "meal": 0})
    obj["items"] = [
        {"days": 127, "id": "levo", "med": "levothyroxine", "name": item_name, "slot": "levo"}
    ]
    return obj


def _refused(obj):
    """The refusal's code, or 0 if the schedule is accepted."""
    try:
        parse(obj)
    except ScheduleError as exc:
        return exc.code
    return 0


def _rehashed(body):
    """A device file for a canonical body (without its sha256 member) written by hand."""
    digest = hexlify(hashlib.sha256(body).digest())
    return body[:-1] + b',"sha256":"' + digest + b'"}'


def test_names_in_any_script_are_kept_as_written():
    name = "Knochenplan f\u00fcr Oma \u2013 Winter"
    assert parse(_with_names(name)).name == name
    assert (
        parse(_with_names("\u9aa8\u306e\u8a08\u753b \U0001f600")).name
        == "\u9aa8\u306e\u8a08\u753b \U0001f600"
    )
    assert not _refused(
        _with_names(
            "Plan", "\u041b\u0435\u0432\u043e\u0442\u0438\u0440\u043e\u043a\u0441\u0438\u043d"
        )
    )


def test_names_are_counted_in_utf8_bytes():
    assert schedule.MAX_NAME_BYTES == 64
    assert parse(_with_names("\u00b5" * 32)).name == "\u00b5" * 32  # 32 characters, 64 bytes
    assert _refused(_with_names("\u00b5" * 32 + "a")) == schedule.E_NAME_LONG  # 65 bytes
    assert _refused(_with_names("Plan", "\U0001f600" * 16 + "a")) == schedule.E_NAME_LONG


def test_control_characters_are_refused():
    for bad in ("Plan\x07", "Plan\x7f", "Plan\x85", "\tPlan", "   "):
        assert _refused(_with_names(bad)) == schedule.E_NAME, repr(bad)
        assert _refused(_with_names("Plan", bad)) == schedule.E_NAME, repr(bad)


def test_invalid_utf8_is_refused():
    body = schedule_bytes(_with_names("PLACEHOLDER"))
    body = body[: body.rfind(b',"sha256"')] + b"}"
    for bad in (b"caf\xe9", b"\xff\xfe", b"\xed\xa0\xbd"):  # Latin-1, junk, a lone surrogate
        try:
            schedule.parse(_rehashed(body.replace(b"PLACEHOLDER", bad)))
        except ScheduleError:
            continue
        raise AssertionError("accepted %r" % bad)


def test_an_escaped_emoji_is_never_stored_as_invalid_utf8():
    # MicroPython decodes the JSON escape of an emoji into two surrogates: refused there.
    # CPython decodes it to the emoji itself. Either way no name is stored broken; a lone
    # surrogate is refused by both.
    body = schedule_bytes(_with_names("PLACEHOLDER"))
    body = body[: body.rfind(b',"sha256"')] + b"}"
    try:
        name = schedule.parse(_rehashed(body.replace(b"PLACEHOLDER", b"\\ud83d\\ude00"))).name
        assert name == "\U0001f600"
    except ScheduleError:
        pass
    try:
        schedule.parse(_rehashed(body.replace(b"PLACEHOLDER", b"lone \\ud83d")))
    except ScheduleError:
        return
    raise AssertionError("a lone surrogate was accepted")
