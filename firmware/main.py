# Boot entry, deployed as source (MicroPython runs main.py itself). Everything runs inside
# the try, the imports too: a Ctrl-C at any moment of boot, or later, ends in maintenance
# mode (the watchdog fed for a bounded window, then a reset back into dispensing), and a
# crash before the app's tasks run is counted and resets the board.
# board.py is the board file (boards/<name>.py) that `pillctl flash` deploys as board.
_board = None
try:
    import board  # pyright: ignore[reportMissingImports]  (deployed as board.py/.mpy)

    _board = board.build()
    from dispenser.app import run

    run(_board)
except KeyboardInterrupt:
    from dispenser.rescue import maintenance

    maintenance(_board)
except Exception as exc:
    from dispenser.rescue import boot_failed

    boot_failed(_board, exc)
