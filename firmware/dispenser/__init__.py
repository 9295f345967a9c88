"""Dispenser firmware: pure core, drivers and the asyncio app."""

VERSION = "0.1.0"
PROTOCOL_VERSION = 1
