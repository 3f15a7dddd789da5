"""Errors that speak to the user."""


class UserError(Exception):
    """An expected problem the user can fix (missing path, bad params, bad sheet).

    The CLI prints it as one line on stderr, without a traceback, and exits with status 2.
    """


class ClipError(Exception):
    """A problem with one clip: it is recorded in the problems report and the run goes on."""

    def __init__(self, clip_id: str, reason: str):
        super().__init__(f"{clip_id}: {reason}")
        self.clip_id = clip_id
        self.reason = reason
