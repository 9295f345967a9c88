# Boot entry, kept as source and short (docs/supervision.md, "Ctrl-C at any moment").
_board = None
try:
    import board  # pyright: ignore[reportMissingImports]

    _board = board.build()
    from dispenser.app import run

    run(_board)
except KeyboardInterrupt:
    from dispenser.rescue import maintenance

    maintenance(_board)
except Exception as exc:
    from dispenser.rescue import boot_failed

    boot_failed(_board, exc)
