"""A caregiver's side of the broker: a paho-mqtt subscriber that collects what a Pico W
publishes (what Home Assistant would receive). Used by `pillctl demo --mqtt` and the tests.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from pillctl.errors import PillctlError


@dataclass
class Message:
    topic: str
    payload: str
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class Watcher:
    """Subscribes to the dispenser's topics and Home Assistant's discovery prefix, QoS 1.
    With `session` set, the broker keeps the subscription and queues messages while the
    watcher is away (a persistent session, as Home Assistant's own client would not need,
    but a caregiver's phone app does)."""

    def __init__(
        self, port: int, session: str | None = None, user: str | None = None, password: str = ""
    ) -> None:
        try:
            import paho.mqtt.client as mqtt
        except ImportError as exc:  # a dev dependency: pip install -e '.[dev]'
            raise PillctlError("paho-mqtt is not installed: pip install paho-mqtt") from exc
        self.messages: list[Message] = []
        self._lock = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,  # pyright: ignore[reportPrivateImportUsage]
            client_id=session or "",
            clean_session=session is None,
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        # paho's stub says int, its code takes any number of seconds
        self.client.reconnect_delay_set(0.2, 1)  # pyright: ignore[reportArgumentType]
        if user:
            self.client.username_pw_set(user, password)
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise PillctlError(f"no subscription on the broker at 127.0.0.1:{port}")

    def _on_connect(self, client, userdata, flags, reason, properties=None) -> None:
        client.subscribe([("pillbox/#", 1), ("homeassistant/#", 1)])

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            self.messages.append(Message(msg.topic, msg.payload.decode(), bool(msg.retain)))
            self._lock.notify_all()

    def wait_for(self, predicate, timeout: float = 30, start: int = 0) -> Message | None:
        """The first message (collected so far or arriving), from the `start`-th one
        received on, that `predicate` accepts."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for message in self.messages[start:]:
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(left)

    def wait_after(self, earlier: Message, predicate, timeout: float = 30) -> Message | None:
        """The first message received after `earlier` (one of this watcher's) that
        `predicate` accepts."""
        with self._lock:
            position = next(i for i, m in enumerate(self.messages) if m is earlier)
        return self.wait_for(predicate, timeout, start=position + 1)

    def events(self) -> list[dict]:
        with self._lock:
            return [m.json() for m in self.messages if m.topic.endswith("/event")]

    def latest(self, suffix: str) -> Message | None:
        with self._lock:
            for message in reversed(self.messages):
                if message.topic.endswith(suffix):
                    return message
        return None

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
