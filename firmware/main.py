# Boot entry: build this board's hardware and run the dispenser app.
# board.py is the board file (boards/<name>.py) that `pillctl flash` deploys as board.py.
import board  # pyright: ignore[reportMissingImports]  (deployed as board.py)

from dispenser.app import run

run(board.build())
