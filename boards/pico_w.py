"""Raspberry Pi Pico W (RP2040 + CYW43) board file, deployed as board.py.

The Pico W's wireless chip uses GP23, GP24, GP25 and GP29 and its onboard LED is on the
CYW43, so this map uses none of them: it is the Pico map (all on GP2-GP21).
"""

from rp2common import Rp2Board

NAME = "pico_w"

PINS = {
    "servos": (2, 4, 6),
    "compartment_leds": (10, 11, 12),
    "status_led": 13,
    "button": 14,
    "buzzer": 15,
    "drop_sensor": 16,
    "i2c": (0, 20, 21),
}

SERVO_CALIBRATION = ((600, 2400), (600, 2400), (600, 2400))

WIRING = """
Raspberry Pi Pico W wiring: identical to the Pico (see boards/pico.py), pins 4, 6, 9,
14-17, 19-21, 26, 27. Do not use GP23, GP24, GP25 or GP29: the wireless chip owns them.
"""


def build():
    return Rp2Board(NAME, PINS, WIRING, SERVO_CALIBRATION)
