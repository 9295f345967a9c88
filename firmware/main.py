# Boot entry, kept as source and short (docs/supervision.md, "Ctrl-C at any moment").
# The keyboard interrupt goes off first of all (docs/safety-rules.md, "USB access").
_board = None
try:
    import micropython

    micropython.kbd_intr(-1)
    import board  # pyright: ignore[reportMissingImports]

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
