"""Raspberry Pi Pico (RP2040) board file, deployed as board.py.

Pins: servos on GP2/GP4/GP6 (PWM slices 1, 2, 3, so each servo has its own slice), buzzer on
GP15 (slice 7), LEDs on plain GPIOs, button and drop sensor with internal pull-ups, DS3231
on I2C0 (GP20 SDA, GP21 SCL). GP23-25 and GP29 stay free, so the same map fits the Pico W.
"""

from rp2common import PICO_PINS, SERVO_CALIBRATION, Rp2Board

NAME = "pico"

PINS = PICO_PINS


# Wiring (documentation only: not deployed as data, so it costs the device no RAM). The
# build guide's picture, docs/wiring-pico.svg, is drawn from PINS by tools/wiring_svg.py.
# Raspberry Pi Pico wiring (pin numbers are the physical pins of the 40-pin header)
#
# part                      Pico pin           GPIO   notes
# ------------------------  -----------------  -----  -------------------------------------
# servo 0 (D3) signal       pin 4              GP2    PWM 1A; servo V+ to 5 V supply, GND common
# servo 1 (K2) signal       pin 6              GP4    PWM 2A
# servo 2 (calcium) signal  pin 9              GP6    PWM 3A
# LED compartment 0         pin 14             GP10   via 330 ohm to LED anode, cathode to GND
# LED compartment 1         pin 15             GP11   via 330 ohm
# LED compartment 2         pin 16             GP12   via 330 ohm
# status LED                pin 17             GP13   via 330 ohm
# button                    pin 19             GP14   other leg to GND (internal pull-up)
# piezo buzzer              pin 20             GP15   PWM 7B; other leg to GND (use a
#                                                     transistor for a loud magnetic buzzer)
# drop sensor (optional)    pin 21             GP16   IR break-beam receiver OUT, open
#                                                     collector, low when the beam is broken
# DS3231 SDA (optional)     pin 26             GP20   I2C0 SDA, module has pull-ups
# DS3231 SCL (optional)     pin 27             GP21   I2C0 SCL
# DS3231 VCC / GND          pin 36 / pin 38    3V3    3V3(OUT) and GND
# servo supply              VBUS pin 40 (5 V)         or a separate 5 V, 2 A supply; add
#                                                     470 uF across it near the servos


def build():
    return Rp2Board(NAME, PINS, SERVO_CALIBRATION)
