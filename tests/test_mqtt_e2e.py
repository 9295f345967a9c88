"""Caregiver alerts end to end: the firmware on a simulated Pico W (real MicroPython, real
sockets) publishing to a real Mosquitto on 127.0.0.1, watched by paho-mqtt as a caregiver's
Home Assistant would be.

bone-health (Europe/Berlin, UTC+1): calcium (hopper 2) at breakfast 07:30 and dinner 18:30,
D3 + K2 (hoppers 0, 1) at lunch 12:30; windows close 90/120 minutes after the meal.
"""

from __future__ import annotations

import json
import time

from conftest import run_pillctl
from mqtthelpers import (
    WIFI_PASSWORD,
    check_discovery,
    configure,
    expected_events,
    make_ca,
    make_server_cert,
    needs_mosquitto,
    needs_openssl,
    pico_w,
    pillctl,
    status,
    wait_published,
    wait_status,
)
from simhelpers import SCHEDULES, compiled, log_records, utc

from dispenser.net.publisher import (
    ERR_MQTT_REFUSED,
    ERR_MQTT_TLS,
    ERR_MQTT_UNREACHABLE,
    ERR_WIFI_JOIN,
)
from pillctl.device import open_device
from pillctl.mosquitto import Mosquitto, SilentBroker
from pillctl.mqttwatch import Watcher

pytestmark = needs_mosquitto
BONE = compiled("bone-health")
REQUIRED_EVENTS = {
    "dose_taken", "dose_missed", "jam", "low_stock", "refused", "restarted", "clock_set",
    "refilled",
}  # fmt: skip


SCHEDULE_NAME = "Knochenplan für Oma – Winter 🦴"


def bone_low_calcium(tmp_path) -> bytes:
    """bone-health with the calcium hopper's low threshold at 1 pill, and a name as people
    write them (UTF-8), which state and Home Assistant show as written."""
    source = (SCHEDULES / "bone-health.toml").read_text()
    marker = "capacity = 120\nlow_stock = 14"
    assert source.count(marker) == 1 and source.count("\ntimezone = ") == 1
    source = source.replace("\ntimezone = ", f'\nname = "{SCHEDULE_NAME}"\ntimezone = ')
    toml = tmp_path / "bone-low.toml"
    toml.write_text(source.replace(marker, "capacity = 120\nlow_stock = 1"), encoding="utf-8")
    return compiled(toml)


def press_and_see(board, servo: str, timeout: float = 10) -> None:
    """A short press, and that servo moving: the dose is dispensed now."""
    since = board.control.press()
    moved = board.control.wait_for(servo, since, timeout=timeout)
    assert moved is not None, f"{servo} never moved"
    # and back at rest: a press during a dispense would wait for it to finish
    assert board.control.wait_for(servo, moved["seq"], value=0, timeout=timeout) is not None


def wait_log(board, predicate, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        records = log_records(board)
        if predicate(records):
            return records
        assert time.monotonic() < deadline, "the log never matched"
        time.sleep(0.2)


def published(watcher: Watcher, board) -> list[tuple[int, str]]:
    """The events the watcher received, once it has the log's last published record."""
    expected = expected_events(board)
    last = expected[-1][0]
    assert watcher.wait_for(lambda m: m.topic.endswith("/event") and m.json()["seq"] == last)
    return [(e["seq"], e["event"]) for e in watcher.events()]


def test_every_event_type_retained_state_and_discovery(tmp_path, broker):
    with pico_w(tmp_path / "board", bone_low_calcium(tmp_path)) as board:  # clock unknown
        with Watcher(broker.port) as watcher:
            configure(board, broker.port)
            with open_device(board.port) as device:
                device.request("time.set", {"t": int(utc(5, 0))})
                for hopper, count in ((0, 30), (1, 30), (2, 2)):
                    device.request("refill", {"hopper": hopper, "count": count})
            board.control.step_to(utc(6, 35))  # breakfast: calcium 2 -> 1, low stock
            press_and_see(board, "servo.2")
            board.control.jam(0)  # D3's hopper jams at lunch; K2 still drops
            board.control.step_to(utc(11, 35))
            press_and_see(board, "servo.1", timeout=30)  # after D3's bounded retries
            wait_log(board, lambda rs: any(r["kind"] == "jam" for r in rs))
            board.control.step_to(utc(19, 45))  # dinner's window closed untouched: missed
            board.control.step_to(utc(11, 35, days=1))  # next lunch: D3 refused (jammed)
            press_and_see(board, "servo.1")
            wait_log(board, lambda rs: any(r["kind"] == "refused" for r in rs))
            reply = wait_published(board)

            events = published(watcher, board)
            assert events == expected_events(board)  # in order, none lost, none doubled
            assert {name for _, name in events} >= REQUIRED_EVENTS
            first = watcher.events()[0]
            assert (first["event"], first["why"], first["clock"]) == (
                "restarted", "power", "unknown"
            )  # fmt: skip
            taken = [e for e in watcher.events() if e["event"] == "dose_taken"]
            # d3-lunch is logged before its servo moves; the jam event then says none fell
            assert [e["dose"] for e in taken] == [
                "ca-breakfast",
                "d3-lunch",
                "k2-lunch",
                "k2-lunch",
            ]
            refused = next(e for e in watcher.events() if e["event"] == "refused")
            assert (refused["dose"], refused["reason"]) == ("d3-lunch", "jammed")
            # in the schedule's names: the compartment and its supplement, not a hopper number
            low = next(e for e in watcher.events() if e["event"] == "low_stock")
            assert (low["compartment"], low["supplement"], low["count"]) == ("ca", "calcium", 1)
            assert (taken[0]["meal"], taken[0]["compartment"]) == ("breakfast", "ca")
            assert not [e for e in watcher.events() if "hopper" in e]
            # one connection, one discovery: each entity's config arrived once (the log's
            # SCHEDULE record, caught up on, announced them all a second time)
            announced = [m.topic for m in watcher.messages if m.topic.startswith("homeassistant/")]
            assert len(announced) == len(set(announced)) == 15, announced
        trace = board.control.trace(0)

        # A Home Assistant that subscribes only now still gets the retained messages.
        with Watcher(broker.port) as ha:
            configs = {}
            deadline = time.monotonic() + 20
            while len(configs) < 15 and time.monotonic() < deadline:
                ha.wait_for(lambda m: m.topic.startswith("homeassistant/"), timeout=5)
                configs = {m.topic: m.json() for m in ha.messages if m.retain and
                           m.topic.startswith("homeassistant/")}  # fmt: skip
            online = ha.wait_for(lambda m: m.topic.endswith("/availability"))
            state_msg = ha.wait_for(lambda m: m.topic.endswith("/state"))
    assert online is not None and (online.payload, online.retain) == ("online", True)
    assert state_msg is not None and state_msg.retain
    state = state_msg.json()
    assert (state["jam"], state["low_stock"], state["missed"]) == ("ON", "ON", "ON")
    assert state["clock"] == "set"
    # one pill: for tonight's dinner, none for tomorrow's breakfast (dispenser.core.forecast)
    assert state["stock"]["ca"] == {"count": 1, "runs_out": "2026-12-02"}
    assert state["stock"]["k2"]["count"] == 28
    assert (state["next_dose"], state["next_dose_at"]) == ("d3-lunch", "2026-12-01T11:30:00+00:00")
    assert state["last_dose"] == "k2-lunch"
    assert state["last_dose_at"] == "2026-12-01T11:35:00+00:00"
    # today: ca-breakfast missed (no press), k2-lunch taken, d3-lunch refused but its window
    # still open (not counted yet)
    today = (state["taken_today"], state["refused_today"], state["missed_today"])
    assert today == (1, 0, 1) and state["adherence_today"] == 50

    # 9 fixed entities + stock and run-out date for each of the 3 compartments
    assert len(configs) == 15, sorted(configs)
    rendered = {c["unique_id"]: check_discovery(t, c, state) for t, c in configs.items()}
    node = "pillbox_" + reply["id"]
    assert rendered[node + "_jam"] == "ON"
    assert state["schedule"] == rendered[node + "_schedule"] == SCHEDULE_NAME
    assert rendered[node + "_stock_ca"] == "1"
    assert rendered[node + "_next_dose_at"] == "2026-12-01T11:30:00+00:00"
    assert configs[f"homeassistant/sensor/{node}/stock_d3/config"]["name"] == "vitamin D3 stock"
    problems = [c for c in configs.values() if c.get("device_class") == "problem"]
    assert sorted(c["name"] for c in problems) == ["Jam", "Low stock", "Missed dose"]
    assert len({json.dumps(c["device"], sort_keys=True) for c in configs.values()}) == 1

    # The password is on the device's flash in its own file, and nowhere else.
    assert WIFI_PASSWORD in (board.fs / "wifi.json").read_text()
    assert WIFI_PASSWORD not in json.dumps(reply)
    assert WIFI_PASSWORD not in json.dumps(trace)
    assert WIFI_PASSWORD not in board.log_path.read_text(errors="replace")
    for segment in (board.fs / "log").iterdir():
        assert WIFI_PASSWORD.encode() not in segment.read_bytes()
    assert all(WIFI_PASSWORD not in m.payload for m in watcher.messages + ha.messages)


def test_outages_wifi_down_during_a_dose_and_a_killed_broker_lose_and_double_nothing(
    tmp_path, broker
):
    with pico_w(tmp_path / "board", BONE, "2026-11-30T05:00:00+00:00") as board:
        watcher = Watcher(broker.port, session="caregiver-phone")
        try:
            configure(board, broker.port)
            with open_device(board.port) as device:
                for hopper in range(3):
                    device.request("refill", {"hopper": hopper, "count": 30})
            wait_published(board)

            # Wi-Fi gone during breakfast: the dose drops at the press, published later.
            board.control.wifi(False)
            wait_status(board, lambda s: s["net"]["wifi"] == "down")
            board.control.step_to(utc(6, 35))
            press_and_see(board, "servo.2")
            taken = wait_log(board, lambda rs: any(r["kind"] == "dispense" for r in rs))
            seq = next(r["seq"] for r in taken if r["kind"] == "dispense")
            assert status(board)["net"]["acked"] < seq
            assert not any(e["event"] == "dose_taken" for e in watcher.events())
            board.control.wifi(True)
            wait_published(board)
            assert watcher.wait_for(lambda m: m.topic.endswith("/event") and
                                    m.json()["seq"] == seq)  # fmt: skip

            # The broker dies mid-stream; lunch is taken and dinner's window passes while
            # it is down; it comes back an hour of simulated time later.
            saved = _persisted_after(broker, time.time())
            broker.kill()
            board.control.step_to(utc(11, 35))
            press_and_see(board, "servo.0")
            board.control.step_to(utc(12, 35))
            assert saved
            broker.start()
            wait_published(board, timeout=120)
            assert published(watcher, board) == expected_events(board)
        finally:
            watcher.close()


def _persisted_after(broker: Mosquitto, t: float) -> bool:
    """Wait until the broker saved its state (the watcher's session) after time `t`."""
    db = broker.workdir / "mosquitto.db"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if db.exists() and db.stat().st_mtime > t:
            return True
        time.sleep(0.1)
    return False


def test_refused_login_logs_one_error_shows_in_status_and_dispensing_goes_on(tmp_path):
    broker_password = "the-right-one"  # noqa: S105
    with (
        Mosquitto(tmp_path / "broker", users={"carer": broker_password}) as broker,
        pico_w(tmp_path / "board", BONE, "2026-11-30T05:00:00+00:00") as board,
    ):
        configure(board, broker.port, user="carer", password="a-wrong-one")
        wait_status(board, lambda s: s["net"]["mqtt"].startswith("refused"))
        # Let it try again a few times (1 s, 2 s, 4 s apart): still one ERROR record.
        deadline = time.monotonic() + 30
        while broker.log_text().count("not authorised") < 3:
            assert time.monotonic() < deadline, broker.log_text()[-1000:]
            time.sleep(0.2)
        errors = [r for r in log_records(board) if r["kind"] == "error"]
        assert [(r["code"], r["detail"]) for r in errors] == [(ERR_MQTT_REFUSED, 5)]
        shown = run_pillctl("status", "--port", board.port, env={"COLUMNS": "200"})
        assert shown.returncode == 0, shown.stderr
        assert f"the broker 127.0.0.1:{broker.port} refused the login (not authorised)" in (
            shown.stdout
        )

        board.control.step_to(utc(6, 35))  # dispensing goes on
        press_and_see(board, "servo.2")

        test = pillctl("mqtt", "test", "--wait", "3", "--port", board.port)
        assert test.returncode == 1
        assert test.stderr.startswith("pillctl: no link to the broker: ")

        with Watcher(broker.port, user="carer", password=broker_password) as watcher:
            configure(board, broker.port, user="carer", password=broker_password)
            wait_published(board)
            test = pillctl("mqtt", "test", "--port", board.port)
            assert test.returncode == 0, test.stderr
            assert "ok: the broker acknowledged pillbox/" in test.stdout
            events = published(watcher, board)
        trace = board.control.trace(0)
        secrets = (broker_password, "a-wrong-one", WIFI_PASSWORD)
        for text in (json.dumps(trace), json.dumps(status(board)), shown.stdout, test.stdout):
            assert not any(s in text for s in secrets)
    assert events == expected_events(board)
    assert "error" in {name for _, name in events}


@needs_openssl
def test_tls_with_the_ca_file_connects_and_a_wrong_ca_is_refused(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(certs, "home-ca")
    stranger, _ = make_ca(certs, "someone-elses-ca")
    server = make_server_cert(certs, ca)
    with (
        Mosquitto(tmp_path / "broker", tls=server) as broker,
        pico_w(tmp_path / "board", BONE, "2026-11-30T05:00:00+00:00") as board,
    ):
        done = pillctl("wifi", "set", "home-net", "--port", board.port, stdin="pw\n")
        assert done.returncode == 0, done.stderr
        address = f"127.0.0.1:{broker.port}"
        plain = pillctl("mqtt", "set", address, "--tls", "--port", board.port)
        assert plain.returncode == 1
        assert (
            plain.stderr
            == "pillctl: --tls needs --ca FILE: the dispenser has no CA store of its own\n"
        )

        wrong = pillctl(
            "mqtt", "set", address, "--tls", "--ca", str(stranger), "--port", board.port
        )
        assert wrong.returncode == 0, wrong.stderr
        refused = wait_status(board, lambda s: s["net"]["mqtt"].startswith("tls failed"))
        assert "not correctly signed by the trusted CA" in refused["net"]["mqtt"]
        assert "New client connected" not in broker.log_text()
        errors = [(r["code"], r["detail"]) for r in log_records(board) if r["kind"] == "error"]
        assert errors == [(ERR_MQTT_TLS, 0)]

        right = pillctl("mqtt", "set", address, "--tls", "--ca", str(ca[0]), "--port", board.port)
        assert right.returncode == 0, right.stderr
        reply = wait_published(board)
        assert reply["net"]["tls"] is True and reply["net"]["mqtt"] == "connected"
        assert "New client connected" in broker.log_text()
        cleared = pillctl("wifi", "clear", "--port", board.port)
        assert cleared.stdout == "Wi-Fi cleared: the dispenser stays offline\n"
        assert not (board.fs / "wifi.json").exists()
        net = wait_status(board, lambda s: s["net"]["wifi"] == "not set")["net"]
        assert net["ssid"] is None
        cleared = pillctl("mqtt", "clear", "--port", board.port)
        assert cleared.returncode == 0, cleared.stderr
        assert not (board.fs / "mqtt.json").exists() and not (board.fs / "mqtt_ca.der").exists()


def test_a_board_without_wifi_says_so_and_has_no_network_code(sim_board):
    done = pillctl("wifi", "set", "home-net", "--port", sim_board.port, stdin="pw\n")
    assert (done.returncode, done.stderr) == (
        1, "pillctl: this dispenser is a sim: caregiver alerts need a Pico W\n"
    )  # fmt: skip
    assert not (sim_board.fs / "dispenser" / "net").exists()
    assert "net" not in status(sim_board)


def test_a_broker_that_stops_answering_never_holds_up_a_press_or_the_watchdog(tmp_path):
    silent = SilentBroker()
    try:
        with pico_w(tmp_path / "board", BONE, "2026-11-30T05:00:00+00:00") as board:
            configure(board, silent.port)
            # Two connections: the first CONNECT waited out its 10 s timeout unanswered,
            # longer than the 8 s watchdog, and the board went on to try again.
            assert silent.wait_connections(2, 60)
            board.control.step_to(utc(6, 35))
            press_and_see(board, "servo.2")
            assert silent.wait_connections(3, 60)
            net = status(board)["net"]
            assert net["wifi"] == "up" and net["mqtt"] in ("connecting", "unreachable")
            resets = [e for e in board.control.trace(0) if e["kind"] == "sim"]
            assert [(e["name"], e["value"]) for e in resets] == [("boot", "power")]
    finally:
        silent.close()
    errors = [(r["code"], r["detail"]) for r in log_records(board) if r["kind"] == "error"]
    assert errors == [(ERR_MQTT_UNREACHABLE, 0)]  # once, however often it was tried


def test_wifi_out_of_reach_is_one_error_then_it_joins_when_it_comes_back(tmp_path, broker):
    with pico_w(tmp_path / "board", BONE, "2026-11-30T05:00:00+00:00") as board:
        board.control.wifi(False)
        configure(board, broker.port)
        failed = wait_status(board, lambda s: s["net"]["wifi"] == "failed", timeout=90)
        assert failed["net"]["mqtt"] == "waiting for Wi-Fi"
        errors = [(r["code"], r["detail"]) for r in log_records(board) if r["kind"] == "error"]
        assert errors == [(ERR_WIFI_JOIN, 0x10000 - 2)]  # STAT_NO_AP_FOUND
        board.control.wifi(True)
        reply = wait_published(board, timeout=120)
        assert (reply["net"]["wifi"], reply["net"]["mqtt"]) == ("up", "connected")


def test_a_wifi_chip_that_does_not_answer_is_an_outage_not_a_crash(tmp_path, broker):
    """connect() raising OSError, as a Pico W's does when its Wi-Fi chip is silent, is a
    failed join like any other: logged once (no ERROR 10 of a failed task at each try),
    `status` says it failed, and the board joins once the chip answers."""
    with pico_w(tmp_path / "board", BONE, "2026-11-30T05:00:00+00:00") as board:
        board.control.wifi(False, fail=True)
        since = board.control.state()["trace_next"]
        configure(board, broker.port)
        for _ in range(4):  # the first try and three more, after pauses of 1, 2 and 4 s
            tried = board.control.wait_for("wifi.connect", since, timeout=30)
            assert tried is not None, "the board stopped trying to join"
            since = tried["seq"] + 1
        reply = status(board)
        shown = run_pillctl("status", "--port", board.port, env={"COLUMNS": "200"})
        records = log_records(board)
        board.control.wifi(True)
        joined = wait_published(board, timeout=120)
    assert (reply["net"]["wifi"], reply["net"]["mqtt"]) == ("failed", "waiting for Wi-Fi")
    assert "could not join the Wi-Fi home-net; trying again" in shown.stdout
    errors = [(r["code"], r["detail"]) for r in records if r["kind"] == "error"]
    assert errors == [(ERR_WIFI_JOIN, 110)]  # ETIMEDOUT, once, however often it was tried
    assert [r["kind"] for r in records].count("boot") == 1  # never reset
    assert (joined["net"]["wifi"], joined["net"]["mqtt"]) == ("up", "connected")
