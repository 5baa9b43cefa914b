"""The one exception type a user sees as a one-line message (no traceback without --debug)."""


class ExplorerError(Exception):
    """A failure the user can act on: the message says what failed, where, and what to do."""
