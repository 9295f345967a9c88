"""Raspberry Pi Pico 2 (RP2350) board file, deployed as board.py.

The RP2350 keeps the Pico's pinout and PWM slice layout for GP0-GP29, so the Pico map
applies unchanged; its watchdog, like the RP2040's, cannot be stopped once started.
"""

from rp2common import PICO_PINS, SERVO_CALIBRATION, Rp2Board

NAME = "pico2"

PINS = PICO_PINS


# Wiring (documentation only: not deployed as data, so it costs the device no RAM).
# Raspberry Pi Pico 2 wiring: identical to the Pico (see boards/pico.py). The RP2350's
# PWM slices for GP2/GP4/GP6/GP15 are 1, 2, 3 and 7, as on the RP2040.


def build():
    return Rp2Board(NAME, PINS, SERVO_CALIBRATION)
