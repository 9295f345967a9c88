"""Draw the wiring diagram of docs/hardware.md from the boards' own pin maps.

Usage: python tools/wiring_svg.py [--check]
Reads PINS of every hardware board file (boards/pico.py, pico_w.py, pico2.py; a name that
points into boards/rp2common.py is followed there) without importing them (they import
`machine`), groups the boards whose maps are the same, and writes one picture per map,
docs/wiring-<first board>.svg. With --check it writes nothing and exits 1 if a picture on
disk differs from what the maps give (tests/test_wiring_svg.py runs the same check).

Every wire in the picture carries data-part, data-gpio and data-pin attributes, so a test
can read the picture back and compare it with the pin map.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOARDS_DIR = ROOT / "boards"
DOCS_DIR = ROOT / "docs"
HARDWARE_BOARDS = ("pico", "pico_w", "pico2")
BOARD_TITLES = {"pico": "Raspberry Pi Pico", "pico_w": "Pico W", "pico2": "Pico 2"}
# What differs between the boards that share a map, said under the picture.
BOARD_NOTES = {
    "pico_w": "Pico W: GP23-25 and GP29 belong to the wireless chip; leave them free.",
    "pico2": "Pico 2 (RP2350): same header, same PWM slices for these pins.",
}

# The 40-pin header of the Pico, Pico W and Pico 2: physical pin -> signal.
HEADER = {
    1: "GP0", 2: "GP1", 3: "GND", 4: "GP2", 5: "GP3", 6: "GP4", 7: "GP5", 8: "GND",
    9: "GP6", 10: "GP7", 11: "GP8", 12: "GP9", 13: "GND", 14: "GP10", 15: "GP11",
    16: "GP12", 17: "GP13", 18: "GND", 19: "GP14", 20: "GP15", 21: "GP16", 22: "GP17",
    23: "GND", 24: "GP18", 25: "GP19", 26: "GP20", 27: "GP21", 28: "GND", 29: "GP22",
    30: "RUN", 31: "GP26", 32: "GP27", 33: "AGND", 34: "GP28", 35: "ADC_VREF",
    36: "3V3(OUT)", 37: "3V3_EN", 38: "GND", 39: "VSYS", 40: "VBUS",
}  # fmt: skip
PIN_OF_GPIO = {int(name[2:]): pin for pin, name in HEADER.items() if name.startswith("GP")}
PIN_3V3, PIN_GND_SERVO, PIN_GND_RIGHT = 36, 3, 38


@dataclass(frozen=True)
class Wire:
    part: str  # what the wire goes to, as the picture labels it
    gpio: int | None  # None for power and ground
    pin: int  # physical header pin
    note: str = ""


def _literal(tree: ast.Module, name: str):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.value
    return None


def board_pins(board: str) -> dict:
    """PINS of boards/<board>.py, read from the source."""
    tree = ast.parse((BOARDS_DIR / f"{board}.py").read_text())
    value = _literal(tree, "PINS")
    if isinstance(value, ast.Name):  # PINS = PICO_PINS, imported from rp2common
        common = ast.parse((BOARDS_DIR / "rp2common.py").read_text())
        value = _literal(common, value.id)
    if value is None:
        raise SystemExit(f"boards/{board}.py: no PINS map found")
    return ast.literal_eval(value)


def wires(pins: dict) -> list[Wire]:
    """Every connection the pin map implies, power and ground included."""
    out = []
    for hopper, gpio in enumerate(pins["servos"]):
        out.append(Wire(f"servo {hopper} signal", gpio, PIN_OF_GPIO[gpio], "orange wire"))
    for index, gpio in enumerate(pins["compartment_leds"]):
        out.append(Wire(f"LED compartment {index}", gpio, PIN_OF_GPIO[gpio], "330 ohm, LED to GND"))
    gpio = pins["status_led"]
    out.append(Wire("status LED", gpio, PIN_OF_GPIO[gpio], "330 ohm, LED to GND"))
    gpio = pins["button"]
    out.append(Wire("button", gpio, PIN_OF_GPIO[gpio], "other leg to GND"))
    gpio = pins["buzzer"]
    out.append(Wire("piezo buzzer", gpio, PIN_OF_GPIO[gpio], "other leg to GND"))
    if pins.get("drop_sensor") is not None:
        gpio = pins["drop_sensor"]
        out.append(
            Wire("drop sensor OUT", gpio, PIN_OF_GPIO[gpio], "open collector; VCC to 3V3, GND")
        )
    if pins.get("i2c") is not None:
        _bus, sda, scl = pins["i2c"]
        out.append(Wire("DS3231 SDA", sda, PIN_OF_GPIO[sda], "optional"))
        out.append(Wire("DS3231 SCL", scl, PIN_OF_GPIO[scl], "optional"))
        out.append(Wire("DS3231 VCC", None, PIN_3V3, "3.3 V"))
        out.append(Wire("DS3231 GND", None, PIN_GND_RIGHT))
    out.append(Wire("servo supply GND", None, PIN_GND_SERVO, "common ground"))
    return out


# --- drawing -------------------------------------------------------------------------
_PITCH = 30
_TOP = 110
_BODY_X, _BODY_W = 420, 160
_WIDTH, _HEIGHT = 1100, 820
_BOX_W = 250


def _pin_xy(pin: int) -> tuple[int, int]:
    if pin <= 20:
        return _BODY_X, _TOP + (pin - 1) * _PITCH
    return _BODY_X + _BODY_W, _TOP + (40 - pin) * _PITCH


def _text(x: int, y: int, text: str, size: int = 12, anchor: str = "start", bold=False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}"{weight}>'
        f"{escape(text)}</text>"
    )


def _header(used: set[int]) -> list[str]:
    out = [
        f'<rect x="{_BODY_X}" y="{_TOP - 30}" width="{_BODY_W}" height="{20 * _PITCH + 30}" '
        'rx="8" fill="#1b7340" stroke="#0c3d21"/>',
        _text(_BODY_X + _BODY_W // 2, _TOP - 10, "USB", 12, "middle", True),
    ]
    for pin, name in HEADER.items():
        x, y = _pin_xy(pin)
        fill = "#f2c94c" if pin in used else "#d9d9d9"
        out.append(f'<rect x="{x - 6}" y="{y - 6}" width="12" height="12" fill="{fill}"/>')
        inner = x + 12 if pin <= 20 else x - 12
        anchor = "start" if pin <= 20 else "end"
        out.append(
            f'<text x="{inner}" y="{y + 4}" font-size="10" fill="#ffffff" '
            f'text-anchor="{anchor}">{pin} {escape(name)}</text>'
        )
    return out


def _wire_group(wire: Wire, box_y: int) -> list[str]:
    x, y = _pin_xy(wire.pin)
    left = wire.pin <= 20
    box_x = 60 if left else _WIDTH - 60 - _BOX_W
    end = box_x + _BOX_W if left else box_x
    colour = "#c0392b" if wire.gpio is None and "VCC" in wire.part else (
        "#333333" if wire.gpio is None else "#2d6cdf"
    )  # fmt: skip
    where = f"GP{wire.gpio}, pin {wire.pin}" if wire.gpio is not None else f"pin {wire.pin}"
    label = f"{wire.part} ({where})"
    gpio = "" if wire.gpio is None else str(wire.gpio)
    return [
        f'<g class="wire" data-part="{escape(wire.part)}" data-gpio="{gpio}" '
        f'data-pin="{wire.pin}">',
        f'<polyline points="{end},{box_y + 14} {(end + x) // 2},{box_y + 14} '
        f'{(end + x) // 2},{y} {x},{y}" fill="none" stroke="{colour}" stroke-width="2"/>',
        f'<rect x="{box_x}" y="{box_y}" width="{_BOX_W}" height="28" rx="4" fill="#ffffff" '
        f'stroke="{colour}"/>',
        _text(box_x + 8, box_y + 12, label, 11, bold=True),
        _text(box_x + 8, box_y + 24, wire.note, 10),
        "</g>",
    ]


def _supply(servo_boxes: list[int], ground_box: int) -> list[str]:
    """The servo supply: 5 V 2 A, its 470 uF capacitor, +5 V to every servo's V+ (a red
    rail along the servo boxes at `servo_boxes`' heights) and its - to the common ground."""
    x, y = 60, _TOP + 20 * _PITCH + 20
    rail = [f"30,{y + 20}"] + [f"30,{b + 21} 60,{b + 21} 30,{b + 21}" for b in servo_boxes]
    return [
        '<g class="supply">',
        f'<polyline points="{" ".join(rail)}" fill="none" stroke="#c0392b" stroke-width="3"/>',
        f'<line x1="30" y1="{y + 20}" x2="{x}" y2="{y + 20}" stroke="#c0392b" stroke-width="3"/>',
        f'<polyline points="{x},{y + 40} 45,{y + 40} 45,{ground_box + 21} {x},{ground_box + 21}" '
        'fill="none" stroke="#333333" stroke-width="3"/>',
        _text(20, y - 6, "+5 V to servo V+", 10),
        f'<rect x="{x}" y="{y}" width="{_BOX_W + 90}" height="64" rx="4" fill="#fff4e5" '
        'stroke="#c0392b"/>',
        _text(x + 8, y + 16, "Servo supply: 5 V, 2 A (own adapter, or VBUS pin 40", 11, bold=True),
        _text(x + 8, y + 30, "only with a 2 A USB supply)", 11, bold=True),
        _text(x + 8, y + 44, "+5 V to each servo's V+ (red); 470 uF across + and -", 10),
        _text(x + 8, y + 58, "near the servos; - to the servos' GND (brown) and GND", 10),
        "</g>",
    ] + _capacitor(x + _BOX_W + 90, y)


def _capacitor(x: int, y: int) -> list[str]:
    """The 470 uF electrolytic across the supply's + (red, from the box's top) and -
    (black, from its bottom), drawn to the box's right at `x`."""
    plate = x + 40
    return [
        '<g class="capacitor" data-part="capacitor 470 uF">',
        f'<polyline points="{x},{y + 12} {plate},{y + 12} {plate},{y + 27}" fill="none" '
        'stroke="#c0392b" stroke-width="2"/>',
        f'<line x1="{plate - 14}" y1="{y + 27}" x2="{plate + 14}" y2="{y + 27}" stroke="#000000" '
        'stroke-width="3"/>',
        f'<path d="M{plate - 14},{y + 37} Q{plate},{y + 31} {plate + 14},{y + 37}" fill="none" '
        'stroke="#000000" stroke-width="3"/>',
        f'<polyline points="{plate},{y + 35} {plate},{y + 52} {x},{y + 52}" fill="none" '
        'stroke="#333333" stroke-width="2"/>',
        _text(plate + 18, y + 25, "+", 12, bold=True),
        _text(plate + 18, y + 42, "470 uF, >= 10 V", 10),
        "</g>",
    ]


def render(boards: list[str], pins: dict) -> str:
    all_wires = wires(pins)
    used = {w.pin for w in all_wires}
    title = " / ".join(BOARD_TITLES[b] for b in boards)
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" font-family="sans-serif">',
        f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="#ffffff"/>',
        _text(_WIDTH // 2, 30, f"Dispenser wiring: {title}", 18, "middle", True),
        _text(
            _WIDTH // 2,
            50,
            "generated by tools/wiring_svg.py from the boards' pin maps; "
            "header pins numbered as printed on the board, top view",
            11,
            "middle",
        ),  # fmt: skip
    ]
    body += _header(used)
    # One box per wire, in header order down each side, never above its own pin's row.
    boxes: dict[str, int] = {}
    for left in (True, False):
        side = sorted(
            (w for w in all_wires if (w.pin <= 20) == left), key=lambda w: _pin_xy(w.pin)[1]
        )
        next_y = _TOP - 14
        for wire in side:
            box_y = max(next_y, _pin_xy(wire.pin)[1] - 14)
            body += _wire_group(wire, box_y)
            boxes[wire.part] = box_y
            next_y = box_y + 34
    servo_boxes = [y for part, y in boxes.items() if part.startswith("servo ") and "signal" in part]
    body += _supply(servo_boxes, boxes["servo supply GND"])
    notes = [BOARD_NOTES[b] for b in boards if b in BOARD_NOTES]
    for i, note in enumerate(notes):
        body.append(_text(_BODY_X + _BODY_W + 40, _HEIGHT - 70 + 16 * i, note, 11))
    body.append("</svg>")
    return "\n".join(body) + "\n"


def pictures() -> dict[Path, str]:
    """Each distinct pin map's picture, by the file it belongs in."""
    groups: list[tuple[list[str], dict]] = []
    for board in HARDWARE_BOARDS:
        pins = board_pins(board)
        for names, known in groups:
            if known == pins:
                names.append(board)
                break
        else:
            groups.append(([board], pins))
    return {DOCS_DIR / f"wiring-{names[0]}.svg": render(names, pins) for names, pins in groups}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, svg in pictures().items():
        if check:
            if not path.exists() or path.read_text() != svg:
                stale.append(path)
        else:
            path.write_text(svg)
            print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        print(f"{path.relative_to(ROOT)} differs from the pin maps: run tools/wiring_svg.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
