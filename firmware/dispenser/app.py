"""The app: asyncio tasks that wire the core to the board's drivers and the serial port.

Tasks: the watchdog feeder, the serial command loop and the button loop, the controller's
(LEDs, buzzer, schedule), plus whatever background tasks the board needs (the sim's event
pipe).
A KeyboardInterrupt (Ctrl-C on USB) ends the app into maintenance mode: outputs safe, the
watchdog fed for a bounded time so an mpremote deploy can finish, then a reset back into
dispensing.
"""

import asyncio
import sys

from dispenser import logrec, protocol
from dispenser.commands import Commands, RefusedError
from dispenser.compat import const
from dispenser.controller import Controller
from dispenser.drivers.button import LONG, Button
from dispenser.link import LineLink

WATCHDOG_MS = const(8000)  # the RP2040's longest watchdog period is 8.3 s
_FEED_MS = const(1000)


class App:
    def __init__(self, board):
        self.board = board
        self.link = LineLink(board.serial_in, board.serial_out)
        self.button = Button(board.button_pin, board.button_edge)
        self.watchdog = None
        self.controller = Controller(board, self.record_event)
        self.swallow_press = False  # set by dispense.test: the confirming hold is no dose press
        self.commands = Commands(self).table

    # --- tasks -------------------------------------------------------------------------
    async def feed_watchdog(self):
        """Feed the watchdog while the event loop runs; a hung loop starves it into a reset."""
        watchdog = self.board.start_watchdog(WATCHDOG_MS)
        self.watchdog = watchdog
        while True:
            watchdog.feed()
            await asyncio.sleep_ms(_FEED_MS)

    async def serial_loop(self):
        while True:
            line = await self.link.readline()
            if line is None:
                self.link.send(0, "err", _error(protocol.E_TOO_LONG, "line over 1024 bytes"))
                continue
            await self.handle_line(line)

    async def button_loop(self):
        while True:
            kind = await self.button.press()
            if self.swallow_press:
                self.swallow_press = False
                continue
            self.event({"kind": "press", "long": kind == LONG})
            await self.controller.press(kind == LONG)

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
        handler = self.commands.get(verb)
        if handler is None:
            self.link.send(frame_id, "err", _error(protocol.E_UNKNOWN, "no command " + verb))
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
        except RefusedError as exc:
            self.link.send(frame_id, "err", _error(protocol.E_REFUSED, str(exc)))
            return
        except Exception as exc:  # never let one command take the app down
            sys.print_exception(exc)
            self.link.send(frame_id, "err", _error(protocol.E_INTERNAL, repr(exc)))
            return
        self.link.send(frame_id, "ok", reply)

    def event(self, payload):
        self.link.send(0, "evt", payload)

    def record_event(self, record):
        self.event(logrec.as_dict(record))

    # --- lifecycle ---------------------------------------------------------------------
    async def main(self):
        asyncio.create_task(self.feed_watchdog())
        self.controller.boot()
        for coro in self.board.background_tasks() + self.controller.tasks():
            asyncio.create_task(coro)
        asyncio.create_task(self.button_loop())
        await self.serial_loop()

    def enter_maintenance(self):
        """Outputs safe; keep the watchdog fed for a bounded window, then let it reset us."""
        self.controller.safe()
        seconds = self.board.maintenance_s
        self.board.feed_for(self.watchdog, seconds)
        print(
            "dispenser: maintenance mode; back to dispensing in %d s (machine.reset() now)"
            % seconds
        )


def _error(code, message):
    return {"code": code, "msg": message}


_board = None  # the running board, for restart() from the maintenance REPL


def restart():
    """Back from the maintenance REPL into dispensing, at once: the board's hard reset.
    `pillctl` runs this over the raw REPL when it finds the board there."""
    if _board is None:
        raise RuntimeError("the dispenser app has not run since boot")
    _board.reset()


def run(board):
    global _board
    _board = board
    app = App(board)
    try:
        asyncio.run(app.main())
    except KeyboardInterrupt:
        if app.watchdog is None:
            # Interrupted before the feeder started the watchdog: start it now, so the
            # bounded maintenance window still ends in a reset back into the app.
            app.watchdog = board.start_watchdog(WATCHDOG_MS)
        app.enter_maintenance()
