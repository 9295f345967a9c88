"""The app: supervised asyncio tasks that wire the core to the board's drivers and the
serial port.

Tasks (dispenser/supervisor.py): the critical serial, button and schedule loops, which hold
the watchdog; the LEDs and the buzzer, restarted if they fail; and whatever background
tasks the board needs (the sim's event pipe). A task that fails is logged and the board
resets. A board that crashed CRASH_LIMIT times in a row boots into the halted state
instead: servos released, the status LED on the error pattern, and the serial line answering
only hello, status, log.info and log.read, until a power cycle.

The keyboard interrupt is off while the app runs (main.py). Maintenance (the REPL with
the watchdog fed for a bounded window) opens only when the `maintenance` command was
confirmed by a hold at the device (dispenser.setupcmds): run() then returns True. A
Ctrl-C that got in before main.py turned it off ends there too; either way this module puts
the outputs in their safe state first.
"""

import asyncio
import sys

from dispenser import CRASH_LIMIT, supervisor
from dispenser.arbiter import TEST, Arbiter
from dispenser.commands import Commands
from dispenser.controller import Controller
from dispenser.core import logrec, protocol, timekeep
from dispenser.drivers.button import LONG, Button
from dispenser.link import LineLink
from dispenser.supervisor import CHECKIN_MS, Supervisor

# In the halted state only these answer, so the host can see why.
HALTED_VERBS = ("hello", "status", "log.info", "log.read")


class App:
    def __init__(self, board):
        self.board = board
        self.link = LineLink(board.serial_in, board.serial_out)
        self.button = Button(board.button_pin, board.button_edge)
        self.arbiter = Arbiter()  # the one owner of the button's presses (dispenser.arbiter)
        self.controller = controller = Controller(board)
        # The hooks through which other parts (dispenser.net) extend the app, and the only
        # ones: add_command(verb, handler) for a new serial command, add_status(name,
        # section) for a section of `status` replies, subscribe(listener) for each record
        # logged, as (seq, t, kind, fields).
        self.subscribe = controller.subscribe
        controller.subscribe(self.record_event)
        self.supervisor = Supervisor(board, self.log_error)
        self.crashes = _crash_count(board.scratch)
        self.halted = self.crashes >= CRASH_LIMIT
        self._commands = commands = Commands(self)
        self.add_command = commands.add
        self.add_status = commands.add_status
        self._leave = asyncio.Event()  # set once maintenance was confirmed at the device

    # --- tasks -------------------------------------------------------------------------
    async def serial_loop(self, check_in):
        while True:
            check_in()
            line = await self.link.readline(CHECKIN_MS)
            if line is False:
                continue  # nothing within the slice: check in, wait on
            if line is None:
                self.link.send(0, "err", _error(protocol.E_TOO_LONG, "line over 1024 bytes"))
                continue
            await self.handle_line(line)

    async def button_loop(self, check_in):
        while True:
            check_in()
            kind = await self.button.press(CHECKIN_MS)
            if kind is None:
                continue
            taker = self.arbiter.take(self.button.pressed_at, self.button.held_ms)
            if taker is not None:  # a wait's press, not a dose's
                self.controller.press_taken(taker.rank)
                continue
            # With its time, as every record has (monitor shows when, not only that)
            self.event({"kind": "press", "t": self.board.clock.now(), "long": kind == LONG})
            await self.controller.press(kind == LONG)

    async def confirming_press(self, window_ms, hold_ms=0, rank=TEST):
        """True once a person at the device pressed the button (held at least `hold_ms`)
        within `window_ms`; that press is this wait's, no dose press. Only a press that
        begins after this call counts: a button already held (or stuck) must be released
        first. The one entry point for "wait for a press or hold at the device"
        (dispense.test, maintenance, override confirmations): dispenser.arbiter decides
        which waiting consumer each press belongs to."""
        wait = self.arbiter.claim(rank, hold_ms)
        try:
            return await wait.wait(self.button, window_ms)
        finally:
            self.arbiter.release(wait)

    def open_maintenance(self):
        """Leave the app for the maintenance REPL (run() returns True) once the reply now
        being sent is out; the caller checked the hold at the device."""
        self._leave.set()

    # --- serial commands ---------------------------------------------------------------
    async def handle_line(self, raw):
        if not raw.startswith(b"P"):
            return  # not a frame: a stray newline, REPL chatter or line noise
        try:
            frame = protocol.decode(raw.decode())
        except UnicodeError:
            self.link.send(0, "err", _error(protocol.E_FRAME, "not ASCII/UTF-8"))
            return
        except protocol.FrameError as exc:
            self.link.send(0, "err", _error(exc.args[0], exc.args[1]))
            return
        if frame is None:
            return  # not a frame: a stray newline or line noise
        frame_id, verb, args = frame
        handler = self._commands.table.get(verb)
        if handler is None:
            self.link.send(frame_id, "err", _error(protocol.E_UNKNOWN, "no command " + verb))
            return
        if self.halted and verb not in HALTED_VERBS:
            message = "halted after %d crashes in a row: unplug the dispenser to restart it"
            self.link.send(frame_id, "err", _error(protocol.E_REFUSED, message % self.crashes))
            return
        if not isinstance(args, dict):
            self.link.send(frame_id, "err", _error(protocol.E_ARGS, "arguments must be an object"))
            return
        try:
            reply = handler(args)
            if hasattr(reply, "send"):  # a coroutine: the command waits for something
                reply = await reply
        except ValueError as exc:  # a handler's verdict on its arguments
            self.link.send(frame_id, "err", _error(protocol.E_ARGS, str(exc)))
            return
        except protocol.RefusedError as exc:
            self.link.send(frame_id, "err", _error(protocol.E_REFUSED, *exc.args))
            return
        except Exception as exc:  # never let one command take the app down
            sys.print_exception(exc)
            self.link.send(frame_id, "err", _error(protocol.E_INTERNAL, repr(exc)))
            return
        self.link.send(frame_id, "ok", reply)

    def event(self, payload):
        self.link.send(0, "evt", payload)

    def record_event(self, record):
        # The record's bytes as the log store just wrote them (no second encoding): this is
        # the controller's first listener, called right after that append. pillctl names
        # the fields (pillctl.logfields).
        self.event({"kind": "record", "b64": protocol.b64(self.controller.store.last_written())})

    def log_error(self, code, detail):
        self.controller.append(self.board.clock.now() or 0, logrec.ERROR, (code, detail))

    # --- lifecycle ---------------------------------------------------------------------
    async def main(self):
        board = self.board
        sup = self.supervisor
        # Before anything reads the clock: an RTC restarted by a reset gets its time back.
        timekeep.restore(board.clock, board.scratch)
        asyncio.create_task(sup.feed_watchdog())
        for coro in board.background_tasks():
            asyncio.create_task(coro)
        if self.halted:  # the safe error state (dispenser.rescue, loaded only for it)
            from dispenser.rescue import halt

            await halt(self)
            return
        try:
            self.controller.boot()
        except Exception as exc:  # e.g. the log cannot be written: a crash like any other
            sup.crash("boot", exc)
            return
        for name, coro_fn, critical in self.controller.tasks():
            sup.spawn(name, coro_fn, critical)
        if getattr(board, "wlan", None) is not None:  # Pico W: caregiver alerts
            from dispenser.net import start  # only here: a board without Wi-Fi never loads it

            start(self)  # a non-critical supervised task: it never holds the watchdog
        sup.spawn("button", self.button_loop)
        sup.spawn("serial", self.serial_loop)
        await self._leave.wait()


def _crash_count(scratch):
    """The crashes in a row so far, from dispenser.rescue, which only failures need."""
    with supervisor.RESCUE_CODE:
        from dispenser.rescue import crash_count

        return crash_count(scratch)


def _error(code, message, more=None):
    """An err frame's payload; `more`: members a program reads (a schedule refusal's)."""
    reply = more or {}
    reply["code"] = code
    reply["msg"] = message
    return reply


_board = None  # the running board, for restart() from the maintenance REPL


def restart():
    """Back from the maintenance REPL into dispensing, at once: the board's hard reset.
    `pillctl` runs this over the raw REPL when it finds the board there."""
    board = _board
    if board is None:  # the Ctrl-C came before run(): build the board again (it only sets pins)
        import board as board_file  # pyright: ignore[reportMissingImports]

        board = board_file.build()
    board.reset()


def run(board):
    """Run the app on `board` until a reset, or until maintenance was confirmed at the
    device: then the outputs go to their safe state and it returns True, and main.py opens
    the maintenance window. A Ctrl-C that got in does the same by raising."""
    global _board
    _board = board
    app = None
    try:
        app = App(board)
        asyncio.run(app.main())
    except KeyboardInterrupt:
        if app is not None:
            app.controller.safe()
        raise
    if not app._leave.is_set():
        return False  # main() ended after a reset that returned (the boot's crash)
    app.controller.safe()
    return True
