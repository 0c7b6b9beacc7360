"""Use a lasting power of attorney's ratings: GOV.UK Feedback Explorer's CSV exports of its done page, kept in
a directory or under an S3 prefix (PERFPLAT_USE_AN_LPA_FEEDBACK_EXPORTS).

Only the exports whose range touches the months asked are read; every other entry that is not such an
export is named in a warning. Each file is read bounded (`MAX_EXPORT_BYTES`), a link or anything but a
regular file refused; what it holds is judged by `queries.feedback_exports`.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field, field_validator

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.files import FileRefused, kind_of, read_bounded
from perfplat_assets.common.months import Month
from perfplat_assets.common.network import unreachable_cause
from perfplat_assets.common.sources import SourceResource
from perfplat_assets.user_satisfaction.calculation import RatingCounts
from perfplat_assets.user_satisfaction.queries.feedback_exports import (
    DONE_PAGE,
    MAX_EXPORT_BYTES,
    NAME_FORM,
    SETTING,
    Export,
    FeedbackExportError,
    FeedbackExportsReading,
    choose_exports,
    read_exports,
)

log = logging.getLogger(__name__)

S3_LOCATION = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?", re.DOTALL)
WHAT = f"a Feedback Explorer export of {DONE_PAGE}"
FIX = f"{SETTING} must name a directory (or s3://bucket/prefix) holding only exports named {NAME_FORM}"
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def check_location(value: str) -> str:
    """A directory path, or `s3://bucket` with an optional key prefix; else a ValueError naming the
    setting. The directory need not exist yet: it is opened when the exports are read."""
    text = value.strip()
    example = f"e.g. {SETTING}=/srv/feedback-exports or {SETTING}=s3://opg-feedback/use-an-lpa/"
    if not text:
        raise ValueError(f"{SETTING} is empty: name the directory or S3 prefix of the exports ({example})")
    if "\0" in text:
        raise ValueError(f"{SETTING} holds a NUL character, so it is no directory ({example})")
    looks_like_a_url = "://" in text or text.lower().startswith("s3:")
    if looks_like_a_url and not S3_LOCATION.fullmatch(text):
        raise ValueError(
            f"{SETTING} is neither a directory nor s3://bucket/prefix (a bucket name of 3 to 63 "
            f"lower-case letters, digits, dots and hyphens, after 's3://' in lower case): {example}"
        )
    return text


class FeedbackExports(SourceResource):
    """GOV.UK Feedback Explorer's exports of Use an LPA's done page, in a directory or under an S3 prefix."""

    setting: ClassVar[str] = SETTING
    location: str = Field(description="A directory of the exports, or s3://bucket/prefix (not recursive).")
    region_name: str | None = Field(default=None, description="The bucket's region (AWS_REGION).")
    endpoint_url: str | None = Field(default=None, description="S3 endpoint override (AWS_ENDPOINT_URL_S3).")

    @field_validator("location", mode="before")
    @classmethod
    def _valid_location(cls, value: object) -> object:
        if value is None and not cls.model_fields["location"].is_required():
            return None  # a stand-in's, which does not use it
        if not isinstance(value, str):
            raise ValueError(f"{SETTING} is unset: name the directory or s3://bucket/prefix of the exports")
        return check_location(value)

    @property
    def embedded(self) -> bool:
        return False

    def describe(self) -> str:
        """Where the exports are, never a credential."""
        where = f"GOV.UK Feedback Explorer exports in {self.location}"
        if self._s3() is not None and self.endpoint_url:
            parts = urlsplit(self.endpoint_url)
            where += f" at {parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
        return where

    def rating_counts(self, months: Sequence[Month]) -> dict[Month, RatingCounts | str]:
        """Each month's counts, or why it is not available (`queries.feedback_exports.count_months`)."""
        return self.read(months).counts

    def read(self, months: Sequence[Month]) -> FeedbackExportsReading:
        """The months' counts, the responses not counted and the warnings, which are logged too."""
        s3 = self._s3()
        if s3 is None:
            reading = self._read_directory(Path(self.location), months)
        else:
            reading = self._read_s3(*s3, months)
        for warning in reading.warnings:
            log.warning("%s: %s", SETTING, warning)
        for month, tally in reading.not_counted.items():
            if tally:
                shown = "; ".join(f"{reason}: {count}" for reason, count in tally.items())
                log.info("%s %s, not counted: %s", SETTING, month, shown)
        return reading

    def _s3(self) -> tuple[str, str] | None:
        """The bucket and the key prefix (empty, or ending in '/'), when the location is on S3."""
        found = S3_LOCATION.fullmatch(self.location.strip())
        if found is None:
            return None
        prefix = (found.group("prefix") or "").strip("/")
        return found.group("bucket"), f"{prefix}/" if prefix else ""

    # --- a directory ------------------------------------------------------------------------------------

    def _read_directory(self, directory: Path, months: Sequence[Month]) -> FeedbackExportsReading:
        try:
            top = os.open(directory, _DIRECTORY_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            raise SourceUnavailable(f"{SETTING}: {directory} is no directory; {FIX}") from None
        except OSError as error:
            raise SourceUnavailable(
                f"{SETTING}: {directory} cannot be opened ({error.strerror}); let perfplat's user read it"
            ) from None
        try:
            chosen, warnings = choose_exports(os.listdir(top), months)
            exports = [_read_entry(top, directory / name) for name in chosen]
        finally:
            os.close(top)
        return read_exports(exports, months, warnings)

    # --- S3 -----------------------------------------------------------------------------------------------

    def _read_s3(self, bucket: str, prefix: str, months: Sequence[Month]) -> FeedbackExportsReading:
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"})
        client = boto3.session.Session().client(
            "s3", region_name=self.region_name or None, endpoint_url=self.endpoint_url or None, config=config
        )
        where = f"s3://{bucket}/{prefix}"
        with self._told(client, f"listing {where}"):
            listed = _listing(client, bucket, prefix)
        chosen, warnings = choose_exports(listed, months)
        exports = []
        for name in chosen:
            key, size, etag = prefix + name, *listed[name]
            label = f"s3://{bucket}/{key}"
            if size > MAX_EXPORT_BYTES:
                raise FeedbackExportError(
                    f"{label}: is larger than {MAX_EXPORT_BYTES:,} bytes, so not {WHAT}; {FIX}"
                )
            with self._told(client, f"reading {label}"):
                exports.append(_object(client, bucket, key, label, size, etag))
        return read_exports(exports, months, warnings)

    @contextmanager
    def _told(self, client: Any, doing: str) -> Iterator[None]:
        """S3's failures as SourceUnavailable, naming the setting; nothing else is caught."""
        try:
            yield
        except (BotoCoreError, ClientError) as error:
            endpoint = client.meta.endpoint_url
            cause = unreachable_cause(error)
            if cause is not None:
                raise SourceUnavailable(
                    f"{SETTING}: cannot reach S3 at {endpoint} while {doing}: {cause}; check the network, "
                    "proxy or AWS_ENDPOINT_URL_S3"
                ) from None
            said = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
            raise SourceUnavailable(
                f"{SETTING}: S3 at {endpoint} failed {doing}: {said or type(error).__name__}; check "
                f"{SETTING}, AWS_REGION and the credentials' s3:ListBucket and s3:GetObject permissions, or "
                "re-run later"
            ) from None


def _read_entry(top: int, path: Path) -> Export:
    """One export in the directory: a regular file, never through a link, its bytes bounded, and unchanged
    while it was read (its modification time says which days it covers)."""
    name = path.name
    try:
        before = os.stat(name, dir_fd=top, follow_symlinks=False)
        data = read_bounded(name, MAX_EXPORT_BYTES, WHAT, dir_fd=top, single_link=True)
        after = os.stat(name, dir_fd=top, follow_symlinks=False)
    except FileRefused as refused:
        problem = str(refused) if refused.mode is None else f"is {kind_of(refused.mode)}, not a regular file"
    except FileNotFoundError:
        problem = "was removed while perfplat read the directory"
    except OSError as error:
        problem = f"cannot be read ({error.strerror})"
    else:
        if (before.st_mtime_ns, before.st_size, before.st_ino) != (
            after.st_mtime_ns,
            after.st_size,
            after.st_ino,
        ):
            problem = "changed while perfplat read it; run again once it is complete"
        elif not stat.S_ISREG(after.st_mode):
            problem = f"is {kind_of(after.st_mode)}, not a regular file"
        else:
            return Export(str(path), datetime.fromtimestamp(after.st_mtime_ns / 1e9, UTC), data)
    raise FeedbackExportError(f"{path}: {problem}; {FIX}")


def _listing(client: Any, bucket: str, prefix: str) -> dict[str, tuple[int, str]]:
    """The objects right under the prefix (not in a deeper "folder"), by name: their size and ETag; a
    deeper "folder" is listed by its name and a slash, so that it is warned of as any other entry is."""
    listed: dict[str, tuple[int, str]] = {}
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
    for page in pages:
        for item in page.get("Contents", []):
            listed[item["Key"][len(prefix) :]] = (int(item["Size"]), item["ETag"])
        for folder in page.get("CommonPrefixes", []):
            listed[folder["Prefix"][len(prefix) :]] = (0, "")
    return listed


def _object(client: Any, bucket: str, key: str, label: str, size: int, etag: str) -> Export:
    """The object the listing named (its ETag), at most MAX_EXPORT_BYTES of it, with its LastModified."""
    bounded = {"Range": f"bytes=0-{MAX_EXPORT_BYTES - 1}"} if size else {}
    answer = client.get_object(Bucket=bucket, Key=key, IfMatch=etag, **bounded)
    body = answer["Body"]
    try:
        data = body.read(MAX_EXPORT_BYTES + 1)
    finally:
        body.close()
    if len(data) != size:
        raise FeedbackExportError(f"{label}: changed while perfplat read it; run again once it is complete")
    return Export(label, answer["LastModified"].astimezone(UTC), data)
