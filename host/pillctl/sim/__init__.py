"""The simulated board: real MicroPython firmware behind a pseudo-terminal (docs/sim.md)."""
