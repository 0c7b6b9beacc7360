"""Reading a file perfplat is handed (the figures file, a published data.json to import) with bounds.

Such a path is untrusted: it may be a link, a named pipe, a device such as /dev/zero or a huge file. It is
opened without following a link perfplat did not make (the last component of the path), refused unless it
is a regular file, its size is checked before anything is read, and no more than the limit is ever read.
"""

from __future__ import annotations

import codecs
import errno
import fcntl
import os
import re
import stat
import struct
import sys
from array import array
from pathlib import Path
from typing import NamedTuple


class FileRefused(ValueError):
    """The path is not a file perfplat will read. The message is the problem alone ("is a directory, not a
    file"): the caller names the file and says what it should be, in its own error. `mode` is what the entry
    is, when that is the problem (None: it is a regular file, refused for its size or its links)."""

    def __init__(self, message: str, mode: int | None = None) -> None:
        super().__init__(message)
        self.mode = mode


def kind_of(mode: int) -> str:
    """What a directory entry is, in words: "a symbolic link", "a directory", "a regular file", or "a
    special file (a pipe, socket or device)"."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "a special file (a pipe, socket or device)"


_FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK  # opening a named pipe must not wait for a writer
    | os.O_CLOEXEC
    | os.O_NOFOLLOW  # a link is refused, not followed
)


def _refuse(mode: int) -> None:
    """Refuse anything but a regular file, saying what it is."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISLNK(mode):
        raise FileRefused("is a symbolic link, which perfplat does not follow: name the file itself", mode)
    if stat.S_ISDIR(mode):
        raise FileRefused("is a directory, not a file", mode)
    raise FileRefused("is not a regular file (a pipe, socket or device)", mode)


def read_bounded(
    path: str | Path, limit: int, what: str, *, dir_fd: int | None = None, single_link: bool = False
) -> bytes:
    """The bytes of the regular file at `path` (relative to the directory `dir_fd`, when given), at most
    `limit` of them; `what` names what the file should be, for the refusal of a larger one ("larger than
    50,000,000 bytes, so not {what}"). With `single_link`, a file with other names (a hard link, which could
    be anything on the file system) is refused too.

    Raises `FileRefused` for a link, anything but a regular file, or a file above the limit; any other
    failure to open or read (no such file, permission denied) is the `OSError` itself, for the caller to
    word as it words the rest of its errors.
    """
    # lstat first: a device is never opened (opening one can act), a socket cannot be; then the checks are
    # made again on what was opened, in case the path changed in between.
    _refuse(os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    try:
        descriptor = os.open(path, _FLAGS, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:  # the path became a link after lstat
            _refuse(stat.S_IFLNK)
        raise
    try:
        return _read(descriptor, limit, what, single_link)
    finally:
        os.close(descriptor)


def _read(descriptor: int, limit: int, what: str, single_link: bool) -> bytes:
    status = os.fstat(descriptor)  # of what was opened: nothing can be swapped in after this
    _refuse(status.st_mode)
    if single_link and status.st_nlink > 1:
        raise FileRefused(f"has {status.st_nlink} names (a hard link)")
    too_large = FileRefused(f"is larger than {limit:,} bytes, so not {what}")
    if status.st_size > limit:
        raise too_large
    os.set_blocking(descriptor, True)
    chunks, left = [], limit + 1  # a byte more than the limit: a file that grew since fstat is refused
    while left and (chunk := os.read(descriptor, min(left, 1 << 20))):
        chunks.append(chunk)
        left -= len(chunk)
    data = b"".join(chunks)
    if len(data) > limit:
        raise too_large
    return data


# UTF-32 first: its little-endian mark starts with UTF-16's.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian)"),
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian)"),
)
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def byte_order_mark(data: bytes) -> str | None:
    """The encoding whose byte order mark `data` starts with ("UTF-16 (little-endian)"), or None."""
    return next((encoding for mark, encoding in _BYTE_ORDER_MARKS if data.startswith(mark)), None)


def line_of(data: bytes, offset: int) -> int:
    """The line (from 1) holding the byte at this offset, counting line breaks as Python's CSV reader does:
    how a refusal of a file perfplat is handed names where it is."""
    return len(_LINE_BREAK.split(data[:offset]))


# Linux's FS_IOC_GETFLAGS (`_IOR('f', 1, long)`): an inode's attributes, as `lsattr` reads them.
_FS_IOC_GETFLAGS = (2 << 30) | (struct.calcsize("l") << 16) | (ord("f") << 8) | 1


class WriteBarrier(NamedTuple):
    """An attribute that stops every user, root included, from changing an entry, whatever its permissions."""

    attribute: str  # "immutable"
    letter: str  # chattr's letter for it: "i"
    effect: str  # what it stops

    def said(self, path: str | Path, subject: str = "it") -> str:
        """`subject` (`path`, or "it" where the sentence has named it) is immutable ..., and how to lift it:
        for a refusal that names the true cause."""
        return (
            f"{subject} is {self.attribute} (chattr +{self.letter}), which {self.effect}, root included; "
            f"lift it with `chattr -{self.letter} {path}`"
        )


_WRITE_BARRIERS = (
    (0x10, WriteBarrier("immutable", "i", "lets no user change it")),
    (0x20, WriteBarrier("append-only", "a", "lets no user remove or replace what it holds")),
)


def write_barrier(path: str | Path) -> WriteBarrier | None:
    """The attribute of the directory or regular file at `path` that stops everyone, root included, from
    changing it, or None: it has neither, or the file system or the platform cannot say. Read without
    following a link and never opening anything but a directory or a regular file."""
    if sys.platform != "linux":
        return None
    try:
        mode = os.stat(path, follow_symlinks=False).st_mode
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            return None
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        flags = array("i", [0, 0])  # the kernel writes an int, whatever the request's size says
        fcntl.ioctl(descriptor, _FS_IOC_GETFLAGS, flags, True)
    except OSError:  # a file system without attributes
        return None
    finally:
        os.close(descriptor)
    return next((barrier for bit, barrier in _WRITE_BARRIERS if flags[0] & bit), None)
