# Boot entry, deployed as source (MicroPython runs main.py itself).
# The keyboard interrupt goes off first of all (docs/safety-rules.md, "USB access"): from
# then on a 0x03 or a tool asking for the raw REPL is a byte the protocol ignores, and the
# REPL opens only in maintenance (asked over USB and confirmed by a 2 s hold of the button,
# dispenser.setupcmds) or in safe mode (the button held at power-on). A Ctrl-C that lands
# before kbd_intr(-1), or anything later, still ends in maintenance mode (the watchdog fed
# for a bounded window, then a reset back into dispensing), and a crash before the app's
# tasks run is counted and resets the board.
# board.py is the board file (boards/<name>.py) that `pillctl flash` deploys as board.
_board = None
try:
    import micropython

    micropython.kbd_intr(-1)
    import board  # pyright: ignore[reportMissingImports]  (deployed as board.py/.mpy)

    _board = board.build()
    if _board.button_pin.value() == 0:  # held at power-on (pull-up): safe mode, the REPL
        from dispenser.rescue import safe_mode

        safe_mode(_board)
    else:
        from dispenser.app import run

        if run(_board):  # maintenance was asked for and confirmed at the device
            raise KeyboardInterrupt
except KeyboardInterrupt:
    from dispenser.rescue import maintenance

    maintenance(_board)
except Exception as exc:
    from dispenser.rescue import boot_failed

    boot_failed(_board, exc)
