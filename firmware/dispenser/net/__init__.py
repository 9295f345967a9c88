"""Caregiver alerts over MQTT, for boards with Wi-Fi (board.wlan). Imported only there, so
a Pico without Wi-Fi carries none of it on its heap.

`start(app)` is the one call the app makes: it subscribes the publisher to the log's
records (app.subscribe), adds the network commands (net/commands.py) and runs the publisher as a
non-critical supervised task (dispenser/supervisor.py): a failure of that task is logged
(ERROR code 10, task "network") and it restarts after a growing pause; it never holds up the
watchdog, a reminder or a press.
"""

from dispenser.net.commands import add_commands
from dispenser.net.publisher import Publisher


def start(app):
    publisher = Publisher(app)
    app.subscribe(publisher.on_record)
    add_commands(app, publisher)
    app.supervisor.spawn("network", publisher.supervised, False)
    return publisher
