"""Caregiver alerts over MQTT, for boards with Wi-Fi (board.wlan). Imported only there, so
a Pico without Wi-Fi carries none of it on its heap.

`start(app)` is the one call the app makes: it hooks the publisher to the controller's
records, adds the network commands (net/commands.py) and runs the publisher as a
non-critical task. A failure of that task is logged (ERROR code 40) and it restarts after a
growing pause; it never holds up the watchdog, a reminder or a press.
"""

import asyncio
import sys

from dispenser import logrec
from dispenser.net.commands import add_commands
from dispenser.net.publisher import ERR_NET_TASK, Publisher

_MAX_BACKOFF_MS = 300000


def start(app):
    publisher = Publisher(app)
    previous = app.controller.on_record

    def on_record(record):
        if previous is not None:
            previous(record)
        publisher.on_record(record)

    app.controller.on_record = on_record
    add_commands(app, publisher)
    asyncio.create_task(_supervised(app, publisher))
    return publisher


async def _supervised(app, publisher):
    """Restart the publisher after an unexpected failure: logged, then a growing pause."""
    restarts = 0
    while True:
        try:
            await publisher.run()
        except Exception as exc:  # a bug in the network code must not take dispensing down
            sys.print_exception(exc)
            restarts += 1
            now = app.board.clock.now() or 0
            try:
                app.controller.append(now, logrec.ERROR, (ERR_NET_TASK, min(restarts, 65535)))
            except OSError:  # a failing flash (the likely cause) must not end the restarts
                pass
            await asyncio.sleep_ms(min(1000 << min(restarts, 9), _MAX_BACKOFF_MS))
