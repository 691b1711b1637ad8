"""User-facing errors: one line that says what is wrong and what to do."""


class McuqError(Exception):
    """An error in the user's input or environment (not a bug in mcuq).

    The CLI prints its message on one line and exits non-zero, without a traceback.
    """
