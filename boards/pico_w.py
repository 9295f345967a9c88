"""Raspberry Pi Pico W (RP2040 + CYW43) board file, deployed as board.py.

The Pico W's wireless chip uses GP23, GP24, GP25 and GP29 and its onboard LED is on the
CYW43, so this map uses none of them: it is the Pico map (all on GP2-GP21).
"""

from rp2common import PICO_PINS, SERVO_CALIBRATION, Rp2Board

NAME = "pico_w"

PINS = PICO_PINS


# Wiring (documentation only: not deployed as data, so it costs the device no RAM).
# Raspberry Pi Pico W wiring: identical to the Pico (see boards/pico.py), pins 4, 6, 9,
# 14-17, 19-21, 26, 27. Do not use GP23, GP24, GP25 or GP29: the wireless chip owns them.


def build():
    import network  # pyright: ignore[reportMissingImports]  (the Pico W's port has it)

    board = Rp2Board(NAME, PINS, SERVO_CALIBRATION)
    # The app starts the caregiver alerts (dispenser.net) only on a board with a wlan.
    board.wlan = network.WLAN(network.STA_IF)
    return board
