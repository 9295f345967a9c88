"""The caregiver-alerts task: Wi-Fi, the broker, and the log published from where the broker
last acknowledged.

It is a reader of the log, like the host: every event comes from a log record, published
QoS 1 in sequence order, and the sequence the broker acknowledged (PUBACK) is kept on flash
(net/config.py, mqtt.ack). After an outage of any length it goes on from there, so nothing
is skipped and nothing already acknowledged is sent again.

It never holds up dispensing: every network wait is an asyncio wait with a timeout, the log
is read in small chunks between yields, and live records arrive through a small queue fed by
the controller's record hook, so publishing them reads no flash at all.
"""

import asyncio

from dispenser.compat import const
from dispenser.core import logrec
from dispenser.net import config, messages
from dispenser.net.mqtt import Client, MQTTError

_TIMEOUT_MS = const(10000)  # per network step: connect, TLS, CONNACK, PUBACK
_WIFI_JOIN_MS = const(30000)
_POLL_MS = const(1000)  # how often an idle session looks at the Wi-Fi link
_QUEUE = const(8)  # live records kept in RAM; more than that are read back from the log
_READ_CHUNK = const(256)
_NOT_YET = object()  # no discovery announced in this session (a schedule may be None)

# ERROR record codes 40-49 (dispenser.core.logrec); logged once per distinct failure, not on
# every retry, so a long outage does not wear the flash.
ERR_MQTT_REFUSED = const(41)  # the broker refused the login (detail: CONNACK code)
ERR_MQTT_UNREACHABLE = const(42)  # no connection to the broker (detail: errno or 0)
ERR_WIFI_JOIN = const(43)  # the Wi-Fi network was not joined (detail: WLAN status)
ERR_MQTT_TLS = const(44)  # the broker's TLS certificate was not accepted


class Publisher:
    def __init__(self, app):
        self.app = app
        self.board = app.board
        self.controller = app.controller
        self.wlan = app.board.wlan
        self.queue = []
        self.wake = asyncio.Event()
        self.settings_changed = asyncio.Event()
        self.acked, self.last_dose_t, self.last_dose_key = config.load_ack()
        self.wifi = "not set"  # what `status` shows: not set / joining / up / down / failed
        self.mqtt = "not set"  # not set / waiting for Wi-Fi / connecting / connected / ...
        self._logged = None  # the failure last logged as an ERROR record
        self._client = None
        # The schedule whose entities discovery announced in this session
        self._discovered_for = _NOT_YET
        self._test_topic = None  # mqtt.test: a message to publish in the running session
        self._test_done = asyncio.Event()

    # --- inputs --------------------------------------------------------------------------
    def on_record(self, record):
        """The controller's hook: called with every record as it is logged."""
        if len(self.queue) < _QUEUE:
            self.queue.append(record)
        self.wake.set()

    def reconfigure(self):
        """Settings changed (wifi/mqtt set or clear): drop the session and start again."""
        self._logged = None
        if self.wifi == "failed":  # a new network (or password) has not failed yet
            self.wifi = "joining"
        client = self._client
        if client is not None:
            client.close()
        self.settings_changed.set()
        self.wake.set()

    def status(self):
        wifi = config.load_wifi()
        mqtt = config.load_mqtt()
        return {
            "wifi": self.wifi,
            "ssid": wifi.get("ssid") if wifi else None,
            "mqtt": self.mqtt,
            "broker": "%s:%d" % (mqtt["host"], mqtt["port"]) if mqtt else None,
            "tls": bool(mqtt and mqtt.get("tls")),
            "acked": self.acked,
        }

    async def test(self, topic, timeout_ms):
        """mqtt.test: True once the broker acknowledged a message on `topic` (published by
        the running session, so it shares the connection's order and its PUBACK)."""
        self._test_done.clear()
        self._test_topic = topic
        self.wake.set()
        try:
            await asyncio.wait_for_ms(self._test_done.wait(), timeout_ms)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._test_topic = None

    # --- the task ------------------------------------------------------------------------
    async def supervised(self, _check_in):
        """The supervisor's entry: not a critical task, so it never needs to check in."""
        await self.run()

    async def run(self):
        """Sessions one after another, with a growing pause after each failure."""
        backoff_ms = 1000
        while True:
            self.settings_changed.clear()
            wifi = config.load_wifi()
            mqtt = config.load_mqtt()
            if wifi is None or mqtt is None:
                self.wifi = "not set" if wifi is None else self.wifi
                self.mqtt = "not set" if mqtt is None else self.mqtt
                await self.settings_changed.wait()
                continue
            ok = await self.session(wifi, mqtt)
            backoff_ms = 1000 if ok else min(backoff_ms * 2, 300000)
            try:
                await asyncio.wait_for_ms(self.settings_changed.wait(), backoff_ms)
                backoff_ms = 1000
            except asyncio.TimeoutError:
                pass

    async def session(self, wifi, mqtt):
        """One connection: True if it got as far as the broker accepting us."""
        if not await self._join(wifi):
            return False
        client = self._connect_client(mqtt)
        if client is None:
            return False
        self._client = client
        base = messages.root(self.board.device_id)
        self.mqtt = "connecting"
        try:
            await client.connect(base + "/availability", "offline", _TIMEOUT_MS)
        except MQTTError as exc:
            self._fail("refused: " + exc.args[1], ERR_MQTT_REFUSED, exc.args[0])
            client.close()
            return False
        except (OSError, EOFError, asyncio.TimeoutError) as exc:
            self._fail("unreachable", ERR_MQTT_UNREACHABLE, _errno(exc))
            client.close()
            return False
        except ValueError as exc:  # how MicroPython's ssl reports a certificate it rejects
            self._fail("tls failed: " + str(exc).strip(), ERR_MQTT_TLS, 0)
            client.close()
            return False
        self.mqtt = "connected"
        self._logged = None
        self._discovered_for = _NOT_YET
        try:
            await client.publish(base + "/availability", "online", True, _TIMEOUT_MS)
            await self._serve(client, base)
        except (OSError, EOFError, MQTTError, asyncio.TimeoutError) as exc:
            self.mqtt = "lost"
            self._fail("lost", ERR_MQTT_UNREACHABLE, _errno(exc), log=False)
        finally:
            client.close()
            self._client = None
        return True

    async def _serve(self, client, base):
        """Publish the log's news and the state until the link drops or settings change."""
        idle_ms = 0
        state_due = True
        state_hour = -1
        while not self.settings_changed.is_set():
            if not self.wlan.isconnected():
                self.wifi = "down"
                raise OSError("Wi-Fi down")
            schedule = self._schedule()
            # Once per session, and again only when a new schedule is in force (its
            # compartments are other entities); not for each SCHEDULE record caught up on.
            if schedule is not self._discovered_for:
                self._discovered_for = schedule
                for topic, payload in messages.discovery(self.board.device_id, schedule):
                    await client.publish(topic, payload, True, _TIMEOUT_MS)
            published = await self._publish_events(client, base)
            now = self.board.clock.now()
            # Hourly as well: "today" and the run-out dates move on without a log record.
            hour = -1 if now is None else now // 3600
            if published or state_due or hour != state_hour:
                engine = self.controller.engine
                state = messages.state(engine, now, self.last_dose_t, self.last_dose_key)
                await client.publish(base + "/state", state, True, _TIMEOUT_MS)
                state_due = False
                state_hour = hour
            topic = self._test_topic
            if topic is not None:
                await client.publish(topic, '{"test": true}', False, _TIMEOUT_MS)
                self._test_topic = None
                self._test_done.set()
            self.wake.clear()
            try:
                await asyncio.wait_for_ms(self.wake.wait(), _POLL_MS)
                state_due = True  # something was logged
            except asyncio.TimeoutError:
                idle_ms += _POLL_MS
                if idle_ms >= client.keepalive_s * 500:
                    idle_ms = 0
                    await client.ping(_TIMEOUT_MS)

    async def _publish_events(self, client, base):
        """Every record after the acknowledged sequence, in order; returns how many."""
        store = self.controller.store
        count = 0
        if self.acked > store.last_seq:  # a log started afresh (erased flash): from its start
            self._ack(0)
        while self.acked < store.last_seq:
            record = self._next_record(store)
            if record is None:  # nothing readable after it (a corrupt stretch): skip to the end
                self._ack(store.last_seq)
                continue
            payload = messages.event(record, self._schedule())
            if payload is not None:
                await client.publish(base + "/event", payload, False, _TIMEOUT_MS)
                count += 1
            if record[2] == logrec.DISPENSE:
                self.last_dose_t, self.last_dose_key = record[1], record[3][0]
            self._ack(record[0])
            await asyncio.sleep_ms(0)  # let a press or a reminder in between records
        return count

    def _next_record(self, store):
        queue = self.queue
        while queue and queue[0][0] <= self.acked:
            queue.pop(0)
        if queue and queue[0][0] == self.acked + 1:
            return queue.pop(0)
        queue.clear()  # a gap: the queue overflowed, or records from before this session
        data, _ = store.read_since(self.acked, _READ_CHUNK)
        for _, record in logrec.scan(data):
            return record
        return None

    def _ack(self, seq):
        self.acked = seq
        config.save_ack(seq, self.last_dose_t, self.last_dose_key)

    # --- helpers -------------------------------------------------------------------------
    async def _join(self, wifi):
        wlan = self.wlan
        if wlan.isconnected():
            self.wifi = "up"
            return True
        if self.wifi != "failed":  # after a failed join, status says so until one works
            self.wifi = "joining"
        self.mqtt = "waiting for Wi-Fi"
        try:
            wlan.active(True)
            wlan.connect(wifi["ssid"], wifi["psk"])
            waited = 0
            while not wlan.isconnected():
                if waited >= _WIFI_JOIN_MS or self.settings_changed.is_set():
                    self._fail_wifi(wlan.status())
                    return False
                await asyncio.sleep_ms(250)
                waited += 250
        except OSError as exc:
            # A Wi-Fi chip that does not answer makes connect() raise (the Pico W's CYW43
            # driver does): an outage like any other, not a crash of this task.
            self._fail_wifi(_errno(exc))
            return False
        self.wifi = "up"
        return True

    def _fail_wifi(self, status):
        self.wifi = "failed"
        # The Pico W's failures are negative (-3 wrong password, -2 no access point, -1
        # failed), an OSError's errno positive; the record's detail is unsigned 16-bit.
        self._fail(None, ERR_WIFI_JOIN, status & 0xFFFF if isinstance(status, int) else 0)

    def _connect_client(self, mqtt):
        ssl = None
        if mqtt.get("tls"):
            ca = config.load_ca()
            if ca is None:
                self._fail("no CA certificate for TLS", ERR_MQTT_REFUSED, 0)
                return None
            import ssl as ssl_module

            ssl = ssl_module.SSLContext(ssl_module.PROTOCOL_TLS_CLIENT)
            ssl.verify_mode = ssl_module.CERT_REQUIRED
            ssl.load_verify_locations(cadata=ca)
        return Client(
            "pillbox-" + self.board.device_id,
            mqtt["host"],
            mqtt["port"],
            mqtt.get("user"),
            mqtt.get("pass"),
            ssl,
        )

    def _fail(self, mqtt_state, code, detail, log=True):
        if mqtt_state is not None:
            self.mqtt = mqtt_state
        if log and self._logged != code:
            self._logged = code
            self.controller.append(self.board.clock.now() or 0, logrec.ERROR, (code, detail))

    def _schedule(self):
        engine = self.controller.engine
        return engine.schedule if engine is not None else None


def _errno(exc):
    code = exc.args[0] if exc.args else 0
    return code if isinstance(code, int) and 0 <= code < 65536 else 0
