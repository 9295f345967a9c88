"""The network's serial commands (docs/protocol.md): wifi.set, wifi.clear, mqtt.set,
mqtt.ca, mqtt.clear, mqtt.test; and a `net` section in `status`.

Secrets (the Wi-Fi password, the broker password) go into their files and nowhere else: no
reply echoes them, nothing is logged about them.
"""

from binascii import a2b_base64

from dispenser.core.protocol import RefusedError
from dispenser.net import config, messages


def _optional(args, name, low, high):
    return None if args.get(name) is None else _text(args, name, low, high)


def _text(args, name, low, high):
    value = args.get(name)
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise ValueError("%s must be a string of %d to %d characters" % (name, low, high))
    return value


def add_commands(app, publisher):
    def wifi_set(args):
        ssid = _text(args, "ssid", 1, 32)
        config.save_wifi(ssid, _text(args, "psk", 0, 63))  # WPA2: at most 63 characters
        publisher.reconfigure()
        return {"ssid": ssid}

    def wifi_clear(args):
        config.remove(config.WIFI_PATH)
        publisher.reconfigure()
        return {}

    def mqtt_set(args):
        port = args.get("port", 1883)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise ValueError("port must be an integer from 1 to 65535")
        tls = args.get("tls", False) is True
        if tls and config.load_ca() is None:
            raise RefusedError("TLS needs the broker's CA certificate: send it with mqtt.ca")
        settings = {
            "host": _text(args, "host", 1, 64),
            "port": port,
            "user": _optional(args, "user", 1, 64),
            "pass": _optional(args, "pass", 0, 64),
            "tls": tls,
        }
        config.save_mqtt(settings)
        publisher.reconfigure()
        return {"host": settings["host"], "port": port, "tls": tls, "user": settings["user"]}

    def mqtt_ca(args):
        off = args.get("off")
        if not isinstance(off, int) or isinstance(off, bool) or not 0 <= off <= 8192:
            raise ValueError("off must be an integer from 0 to 8192")
        chunk = a2b_base64(_text(args, "b64", 0, 800))
        config.write_ca_chunk(off, chunk)
        if args.get("last") is True:
            config.commit_ca()
        return {"off": off, "n": len(chunk)}

    def mqtt_clear(args):
        config.remove(config.MQTT_PATH)
        config.remove(config.CA_PATH)
        publisher.reconfigure()
        return {}

    async def mqtt_test(args):
        """End to end: wait for the session, then a test message the broker acknowledges."""
        wait = args.get("wait", 30)
        if not isinstance(wait, int) or isinstance(wait, bool) or not 1 <= wait <= 120:
            raise ValueError("wait must be an integer from 1 to 120")
        topic = messages.root(app.board.device_id) + "/test"
        ok = await publisher.test(topic, wait * 1000)
        reply = publisher.status()
        reply["ok"] = ok
        reply["published"] = topic if ok else None
        return reply

    app.add_status("net", publisher.status)
    app.add_command("wifi.set", wifi_set)
    app.add_command("wifi.clear", wifi_clear)
    app.add_command("mqtt.set", mqtt_set)
    app.add_command("mqtt.ca", mqtt_ca)
    app.add_command("mqtt.clear", mqtt_clear)
    app.add_command("mqtt.test", mqtt_test)
