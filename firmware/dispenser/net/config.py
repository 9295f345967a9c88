"""Network settings on the device's flash, each in its own small file.

- wifi.json   {"ssid", "psk"}: the Wi-Fi password lives only here (never in a reply, the
              log or the trace)
- mqtt.json   {"host", "port", "user", "pass", "tls"}: the broker
- mqtt_ca.der the CA certificate that signs the broker's TLS certificate (DER)
- mqtt.ack    "SEQ LAST_DOSE_T LAST_DOSE_KEY": the last log sequence the broker
              acknowledged, and the last dose taken as published

Every file is written to a temporary name and renamed, so a power cut leaves the old or the
new one, never a torn file.
"""

import json
import os

WIFI_PATH = "wifi.json"
MQTT_PATH = "mqtt.json"
CA_PATH = "mqtt_ca.der"
ACK_PATH = "mqtt.ack"


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _read_json(path):
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def load_wifi():
    return _read_json(WIFI_PATH)


def save_wifi(ssid, psk):
    _write(WIFI_PATH, json.dumps({"ssid": ssid, "psk": psk}).encode())


def load_mqtt():
    return _read_json(MQTT_PATH)


def save_mqtt(settings):
    _write(MQTT_PATH, json.dumps(settings).encode())


def load_ca():
    try:
        with open(CA_PATH, "rb") as f:
            return f.read()
    except OSError:
        return None


def write_ca_chunk(off, chunk):
    """Chunked upload of the CA certificate: offset 0 starts a new file."""
    tmp = CA_PATH + ".tmp"
    if off:
        try:
            size = os.stat(tmp)[6]
        except OSError:
            size = 0
        if size != off:
            raise ValueError("CA chunk at %d, but %d bytes were sent" % (off, size))
    with open(tmp, "ab" if off else "wb") as f:
        f.write(chunk)


def commit_ca():
    os.rename(CA_PATH + ".tmp", CA_PATH)


def load_ack():
    """(last acknowledged seq, last dose time, last dose key); zeros when never published."""
    try:
        with open(ACK_PATH) as f:
            words = f.read().split()
        return int(words[0]), int(words[1]), int(words[2])
    except (OSError, ValueError, IndexError):
        return 0, 0, 0


def save_ack(seq, dose_t, dose_key):
    _write(ACK_PATH, ("%d %d %d" % (seq, dose_t, dose_key)).encode())
