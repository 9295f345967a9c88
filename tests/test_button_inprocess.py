"""The button driver in virtual time: short and long presses, debounce, chatter, and the
exact long-press threshold."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from inprocess import Edge, InPin, VirtualLoop, install_micropython_names, run

from dispenser.drivers.button import LONG, SHORT, Button


@pytest.fixture
def loop(monkeypatch):
    loop = VirtualLoop()
    install_micropython_names(monkeypatch, loop)
    return loop


async def next_press(button: Button) -> int:
    """Button.press() waits for a press; a supervised button loop (issue 8) passes a slice
    and gets None when it ends with no press. Either way: the next press."""
    if "wait_ms" not in inspect.signature(button.press).parameters:
        return await button.press()
    while (kind := await button.press(1000)) is None:
        pass
    return kind


def play(loop, edges: list[tuple[int, int]]) -> list[int]:
    """Drive the pin through (level, ms) steps; return the presses the driver reported."""
    pin, edge = InPin(1), Edge()
    button = Button(pin, edge)
    seen: list[int] = []

    async def presses():
        while True:
            seen.append(await next_press(button))

    async def scenario():
        reader = asyncio.ensure_future(presses())
        for level, ms in edges:
            if pin.level != level:
                pin.level = level
                edge.set()
            await asyncio.sleep(ms / 1000)
        await asyncio.sleep(0.1)  # the driver polls a held button every 10 ms
        reader.cancel()

    run(loop, scenario())
    return seen


def test_a_short_press_is_short(loop):
    assert play(loop, [(0, 150), (1, 0)]) == [SHORT]


def test_the_long_press_threshold_is_exact(loop):
    assert play(loop, [(0, 1480), (1, 0)]) == [SHORT]


def test_a_hold_of_one_and_a_half_seconds_is_long(loop):
    assert play(loop, [(0, 1530), (1, 0)]) == [LONG]


def test_a_blip_shorter_than_the_debounce_is_no_press(loop):
    assert play(loop, [(0, 10), (1, 200)]) == []


def test_chatter_on_press_and_release_counts_once(loop):
    chatter = [(0, 3), (1, 2), (0, 4), (1, 1), (0, 150), (1, 3), (0, 2), (1, 200)]
    assert play(loop, chatter) == [SHORT]


def test_two_separate_presses_are_two(loop):
    assert play(loop, [(0, 100), (1, 300), (0, 100), (1, 0)]) == [SHORT, SHORT]
