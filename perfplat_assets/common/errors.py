"""Errors every source raises alike, so a run's failure reads the same whichever source let it down; and the
causes a file system gives, said as what they are."""

from __future__ import annotations

import errno


class SourceUnavailable(RuntimeError):
    """A configured source could not be reached or read; the message says which, and how to fix it."""


# What an operator is told for each refusal a file system gives: the cause, not the errno's bare words (a
# full disk is not "permission denied", and an immutable directory refuses root too).
_FILE_SYSTEM_CAUSES = {
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted, whatever the permissions: an entry there is immutable or "
    "append-only (lsattr shows it), or another user's in a directory with the sticky bit",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the file system is full (no space left on device)",
    errno.EDQUOT: "the disk quota of the user perfplat runs as is used up",
}


def file_system_cause(error: OSError) -> str:
    """Why the file system refused, in words naming the cause (no full stop at the end, for the caller's
    sentence): permission denied, not permitted (immutable, append-only), read-only, full, over quota; else
    the system's own words."""
    if error.errno in _FILE_SYSTEM_CAUSES:
        return _FILE_SYSTEM_CAUSES[error.errno]
    return (error.strerror or str(error) or type(error).__name__).rstrip(".")


def clause(text: object) -> str:
    """`text` ready to be followed by a full stop: a message that already ends a sentence ("... re-run.")
    would otherwise end in two."""
    return str(text).rstrip().rstrip(".")
