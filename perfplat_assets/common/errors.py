"""Errors every source raises alike, so a run's failure reads the same whichever source let it down."""


class SourceUnavailable(RuntimeError):
    """A configured source could not be reached or read; the message says which, and how to fix it."""
