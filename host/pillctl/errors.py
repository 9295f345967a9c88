"""The one error type every command raises for a problem the user can act on.

The CLI prints it as a single line, ``pillctl: message``, and exits 1; a traceback appears
only with ``--debug``.
"""


class PillctlError(Exception):
    """A failure with a message that says what went wrong and what to do."""
