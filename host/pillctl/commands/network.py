"""`pillctl wifi set|clear` and `pillctl mqtt set|clear|test`: a Pico W's caregiver alerts.

The Wi-Fi and broker passwords are prompted for without echo (or read from standard input
with `--password-stdin`, for scripts) and sent once, in the request that stores them on the
device; no reply, log record or trace carries them back.
"""

from __future__ import annotations

import base64
import ssl
import sys
from pathlib import Path

import click

from pillctl.commands.common import connect, json_option, port_option, print_json, timeout_option
from pillctl.errors import PillctlError

CA_CHUNK = 512  # bytes of certificate per mqtt.ca frame (the line limit is 1024)
TEST_WAIT_S = 45.0  # joining Wi-Fi takes up to 30 s on the device, then the broker


# The publisher's states (dispenser.net.publisher), as a sentence: {ssid} and {broker}
# are filled in. A state not listed here is shown as the device says it.
WIFI_TEXT = {
    "not set": "no Wi-Fi network set (`pillctl wifi set SSID`)",
    "joining": "joining the Wi-Fi {ssid}",
    "up": "on the Wi-Fi {ssid}",
    "down": "the Wi-Fi {ssid} is out of reach; trying again",
    "failed": "could not join the Wi-Fi {ssid}; trying again",
}
MQTT_TEXT = {
    "not set": "no broker set (`pillctl mqtt set HOST[:PORT]`)",
    "waiting for Wi-Fi": "then the broker {broker}",
    "connecting": "connecting to the broker {broker}",
    "connected": "connected to the broker {broker}",
    "unreachable": "cannot reach the broker {broker}; trying again",
    "lost": "lost the broker {broker}; reconnecting",
    "refused": "the broker {broker} refused the login ({why})",
    "tls failed": "the broker {broker} failed the TLS check ({why})",
}


def net_status_line(net: dict | None) -> str:
    """One sentence for `status` and `mqtt test`: where the Wi-Fi and the broker stand."""
    if not net:
        return "no Wi-Fi on this board"
    fill = {
        "ssid": net.get("ssid") or "",
        "broker": (net.get("broker") or "") + (" with TLS" if net.get("tls") else ""),
    }
    wifi = WIFI_TEXT.get(str(net.get("wifi")), "Wi-Fi {wifi}").format(wifi=net.get("wifi"), **fill)
    state, _, why = str(net.get("mqtt")).partition(": ")
    template = MQTT_TEXT.get(state, "the broker {broker}: {state}")
    mqtt = template.format(state=net.get("mqtt"), why=why, **fill)
    acked = net.get("acked")
    sent = f"alerts sent up to log record {acked}" if acked else "no alert sent yet"
    return f"{wifi}; {mqtt}; {sent}"


password_stdin_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)


def read_password(what: str, from_stdin: bool) -> str:
    """The password: the first line of stdin (for scripts, which have no terminal for a
    hidden prompt), or typed at a prompt that does not echo."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:  # nothing piped in: never store an empty password by mistake
            raise PillctlError(
                f"--password-stdin: standard input is empty; give the {what} on its first "
                "line (an empty line for none)"
            )
        return line.rstrip("\r\n")
    return click.prompt(what, hide_input=True, default="", show_default=False)


def _needs_wifi(device) -> None:
    if device.hello.get("board") not in ("pico_w", "sim_w"):
        raise PillctlError(
            f"this dispenser is a {device.hello.get('board')}: caregiver alerts need a Pico W"
        )


@click.group("wifi")
def wifi_group() -> None:
    """The Pico W's Wi-Fi network."""


@wifi_group.command("set")
@click.argument("ssid")
@password_stdin_option
@port_option
@timeout_option
def wifi_set(ssid: str, password_stdin: bool, port: str, timeout: float) -> None:
    """Join network SSID; prompts for its password (not echoed)."""
    if not 1 <= len(ssid.encode()) <= 32:
        raise PillctlError("SSID must be 1 to 32 bytes")
    with connect(port, timeout) as device:
        _needs_wifi(device)  # before the prompt: no password typed for nothing
        psk = read_password("Wi-Fi password", password_stdin)
        if len(psk) > 63:
            raise PillctlError("a Wi-Fi (WPA2) password has at most 63 characters")
        device.request("wifi.set", {"ssid": ssid, "psk": psk})
    click.echo(f"Wi-Fi set to {ssid}; `pillctl mqtt test` shows when the dispenser is online")


def _clear_command(group: click.Group, verb: str, doc: str, done: str) -> None:
    """`pillctl wifi clear` / `pillctl mqtt clear`: one request, one line."""

    @group.command("clear", help=doc)
    @port_option
    @timeout_option
    def clear(port: str, timeout: float) -> None:
        with connect(port, timeout) as device:
            _needs_wifi(device)
            device.request(verb)
        click.echo(done)


_clear_command(
    wifi_group, "wifi.clear", "Forget the Wi-Fi network and its password.",
    "Wi-Fi cleared: the dispenser stays offline",
)  # fmt: skip


@click.group("mqtt")
def mqtt_group() -> None:
    """The MQTT broker the Pico W publishes caregiver alerts to."""


def _split_host(address: str) -> tuple[str, int | None]:
    host, sep, port = address.rpartition(":")
    if not sep:
        return address, None
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise PillctlError(f"{address}: the port must be a number from 1 to 65535")
    return host, int(port)


def _ca_der(path: Path) -> bytes:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise PillctlError(f"cannot read {path}: {exc.strerror}") from exc
    if b"-----BEGIN CERTIFICATE-----" in text:
        try:
            return ssl.PEM_cert_to_DER_cert(text.decode("ascii"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise PillctlError(f"{path}: not a PEM certificate") from exc
    if not text.startswith(b"\x30"):
        raise PillctlError(f"{path}: not a certificate (PEM or DER)")
    return text


@mqtt_group.command("set")
@click.argument("address", metavar="HOST[:PORT]")
@click.option("--user", help="Broker user name; prompts for its password (not echoed).")
@password_stdin_option
@click.option("--tls", is_flag=True, help="TLS to the broker (needs --ca).")
@click.option(
    "--ca", type=click.Path(path_type=Path, dir_okay=False), help="CA certificate (PEM/DER)."
)
@port_option
@timeout_option
def mqtt_set(
    address: str, user, password_stdin: bool, tls: bool, ca: Path | None, port: str,
    timeout: float,
) -> None:  # fmt: skip
    """Publish caregiver alerts to the broker at HOST[:PORT] (1883, or 8883 with --tls)."""
    if port.isdigit():  # a serial port is a path (or COMn), never a bare number
        raise PillctlError(
            f"--port is the dispenser's serial port; the broker's port goes in HOST:PORT, "
            f"e.g. `pillctl mqtt set {address.rpartition(':')[0] or address}:{port}`"
        )
    host, broker_port = _split_host(address)
    if not host or len(host) > 64:
        raise PillctlError("the broker's host name must be 1 to 64 characters")
    if ca is not None and not tls:
        raise PillctlError("--ca is the CA for TLS: add --tls")
    if tls and ca is None:
        raise PillctlError("--tls needs --ca FILE: the dispenser has no CA store of its own")
    if password_stdin and not user:
        raise PillctlError("--password-stdin reads the broker user's password: add --user NAME")
    der = _ca_der(ca) if ca is not None else None
    args = {"host": host, "port": broker_port or (8883 if tls else 1883), "tls": tls}
    with connect(port, timeout) as device:
        _needs_wifi(device)  # before the prompt: no password typed for nothing
        if user:
            args["user"] = user
            args["pass"] = read_password("broker password", password_stdin)
        if der is not None:
            for off in range(0, len(der), CA_CHUNK):
                chunk = base64.b64encode(der[off : off + CA_CHUNK]).decode()
                last = off + CA_CHUNK >= len(der)
                device.request("mqtt.ca", {"off": off, "b64": chunk, "last": last})
        reply = device.request("mqtt.set", args)
    click.echo(
        f"broker set to {reply['host']}:{reply['port']}" + (" with TLS" if tls else "")
        + "; `pillctl mqtt test` checks it"
    )  # fmt: skip


_clear_command(
    mqtt_group, "mqtt.clear", "Forget the broker (and its CA certificate).",
    "broker cleared: the dispenser publishes nothing",
)  # fmt: skip


@mqtt_group.command("test")
@port_option
@json_option
@click.option("--wait", type=float, default=TEST_WAIT_S, show_default=True, help="Seconds.")
def mqtt_test(port: str, as_json: bool, wait: float) -> None:
    """Prove the link end to end: the device publishes a test message and the broker
    acknowledges it."""
    with connect(port) as device:
        _needs_wifi(device)
        reply = device.request("mqtt.test", {"wait": int(wait)}, timeout=wait + 5)
    if as_json:
        print_json(reply)
    if not reply.get("ok"):
        raise PillctlError("no link to the broker: " + net_status_line(reply))
    if not as_json:
        click.echo(f"ok: the broker acknowledged {reply['published']}")
        click.echo(net_status_line(reply))
