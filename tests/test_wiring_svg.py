"""The wiring picture of docs/hardware.md agrees with the boards' pin maps: it is what
tools/wiring_svg.py draws from them today, and every wire it shows goes to the GPIO and
header pin the firmware uses for that part."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET

from conftest import ROOT

SVG = ROOT / "docs" / "wiring-pico.svg"
NS = "{http://www.w3.org/2000/svg}"


def _tool():
    spec = importlib.util.spec_from_file_location("wiring_svg", ROOT / "tools" / "wiring_svg.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _drawn(svg_text: str) -> dict[str, tuple[str, str]]:
    """part -> (gpio, header pin) of every wire in the picture."""
    root = ET.fromstring(svg_text)
    return {
        g.attrib["data-part"]: (g.attrib["data-gpio"], g.attrib["data-pin"])
        for g in root.iter(f"{NS}g")
        if g.attrib.get("class") == "wire"
    }


def test_the_committed_picture_is_the_one_the_pin_maps_give():
    tool = _tool()
    pictures = tool.pictures()
    # One map for the Pico, Pico W and Pico 2: one picture, and the page shows it.
    assert list(pictures) == [SVG]
    assert SVG.read_text() == pictures[SVG], "run: python tools/wiring_svg.py"
    assert "wiring-pico.svg" in (ROOT / "docs" / "hardware.md").read_text()
    assert tool.main(["--check"]) == 0
    assert 'data-part="capacitor 470 uF"' in SVG.read_text()  # across the servo supply


def test_every_pin_of_every_board_map_is_drawn_at_its_header_pin():
    tool = _tool()
    drawn = _drawn(SVG.read_text())
    # The Pico's header, independently of the tool: GPn on the left from pin 1, the right
    # side from pin 21 (GP16) up; the ground pins between them.
    left = [0, 1, None, 2, 3, 4, 5, None, 6, 7, 8, 9, None, 10, 11, 12, 13, None, 14, 15]
    right = [16, 17, None, 18, 19, 20, 21, None, 22]
    header = {gp: pin for pin, gp in enumerate(left + right, 1) if gp is not None}
    for board in ("pico", "pico_w", "pico2"):
        pins = tool.board_pins(board)
        expected = {f"servo {h} signal": gp for h, gp in enumerate(pins["servos"])}
        expected |= {f"LED compartment {i}": gp for i, gp in enumerate(pins["compartment_leds"])}
        expected |= {
            "status LED": pins["status_led"],
            "button": pins["button"],
            "piezo buzzer": pins["buzzer"],
            "drop sensor OUT": pins["drop_sensor"],
            "DS3231 SDA": pins["i2c"][1],
            "DS3231 SCL": pins["i2c"][2],
        }
        for part, gp in expected.items():
            assert drawn[part] == (str(gp), str(header[gp])), f"{board}: {part}"
    assert drawn["DS3231 VCC"] == ("", "36")  # 3V3(OUT)
    assert drawn["servo supply GND"] == ("", "3")


def test_a_changed_pin_map_changes_the_picture():
    tool = _tool()
    pins = tool.board_pins("pico")
    moved = dict(pins, button=22)  # GP22, header pin 29
    svg = tool.render(["pico"], moved)
    assert _drawn(svg)["button"] == ("22", "29")
    assert svg != tool.render(["pico"], pins)
