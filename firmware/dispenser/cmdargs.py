"""What every module of serial commands shares (dispenser.commands, setupcmds, servicecmds,
net.commands): the refusal, the integer argument check and the reply's base64. A module of
its own, so that the command modules need not import each other."""

from binascii import b2a_base64

from dispenser.compat import const

MAX_CHUNK = const(2048)  # bytes per log.read or schedule.get reply


class RefusedError(Exception):
    """The device will not do it; the message says why."""


def int_arg(args, name, low, high):
    value = args.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError("%s must be an integer from %d to %d" % (name, low, high))
    return value


def b64(data):
    """Base64 as bytes, not str: the link writes them into the reply frame as they are
    (protocol.write), with no copy and no JSON escaping pass."""
    return b2a_base64(data, newline=False)
