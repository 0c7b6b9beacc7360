"""OPG's published series read as history: every record of a `data.json` in the published format, checked
whole, with its defects named by position. Pure: no I/O.

Months before perfplat's sources (the service deletes feedback after two years) exist only as published
figures; importing them lets perfplat's cumulative files carry the whole series. Whose series a file is comes
from its records' `service` field: one registered service's, never a mix. A count published as a JSON string
(`"44.2"`, a defect of the hand process) becomes a number, and is reported.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from perfplat_assets.common.json_input import nesting, repeated_keys
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.measures import default_method_schedules, method_schedules
from perfplat_assets.publication.committing.plan import Pair
from perfplat_assets.publication.published_format.checks import (
    fields_problem,
    inconsistencies,
    record_problems,
)
from perfplat_assets.publication.published_format.records import RECORD_FIELDS, count_value
from perfplat_assets.services.registry import service_named, services

MAX_PROBLEMS_SHOWN = 20
MAX_NESTING = 2  # an array of records, each a flat object


class HistoryRefused(ValueError):
    """The file cannot be imported as it is; the message names each record at fault by its position."""


@dataclass(frozen=True)
class PublishedHistory:
    service: Service  # whose series it is, from its records
    values: Mapping[Pair, float]
    converted: tuple[str, ...]  # counts that were strings, as "record 212 (2026-01 digital-take-up): '44.2'"
    # Months whose published values disagree with each other (a percentage its own counts do not give), by
    # (month, the headline dataType), with both figures: adopted as published, and flagged.
    inconsistent: Mapping[Pair, str]
    digest: str  # sha256 of the file's bytes: its provenance, and how a second import is recognised

    @property
    def months(self) -> list[Month]:
        return sorted({month for month, _ in self.values})


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if repeated := repeated_keys(pairs):
        raise ValueError(f"an object repeats the key {', '.join(map(repr, repeated))}")
    return dict(pairs)


class _Beyond(float):
    """A number in the file too large for any count (JSON's `1e999`, or thousands of digits): infinite, so
    above every dataType's bound, and shown by its first digits and its length, never in full."""

    text: str

    def __new__(cls, text: str) -> _Beyond:
        number = super().__new__(cls, "-inf" if text.lstrip().startswith("-") else "inf")
        number.text = text.strip()
        return number

    def __repr__(self) -> str:
        if len(self.text) <= MAX_DIGITS_SHOWN:
            return self.text
        return f"{self.text[:MAX_DIGITS_SHOWN]}… ({len(self.text):,} characters)"

    __str__ = __repr__


# An integer longer than this is above every bound; Python would refuse to convert one of over 4,300 digits.
MAX_INTEGER_DIGITS = 30
MAX_DIGITS_SHOWN = 12


def _integer(text: str) -> int | float:
    return _Beyond(text) if len(text) > MAX_INTEGER_DIGITS else int(text)


def _fraction(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _Beyond(text)


def _number(count: Any) -> tuple[Any, bool]:
    """A count as a number, and whether it had to be converted from a string."""
    if isinstance(count, str):
        try:
            value = float(count.strip())
        except ValueError:
            return count, False
        if math.isnan(value):
            return count, False
        return (value if math.isfinite(value) else _Beyond(count)), True
    return count, False


def read_published_history(
    content: bytes,
    name: str,
    last_closed: Month,
    methods: Callable[[Service], Mapping[str, MethodSchedule]] = method_schedules,
) -> PublishedHistory:
    """Every record of `content` (a published `data.json`), or a refusal listing what is wrong where. A
    month whose values disagree with each other (a satisfaction percentage its five counts do not give under
    the service's schedules of methods, `methods(service)`: by default as its settings say) is the record all
    the same: it is read as published, and named in `inconsistent`."""
    items = _records(content, name)
    reading = _Reading(last_closed, _service_of(items, name))
    for position, item in enumerate(items, start=1):
        reading.add(position, item)
    try:
        configured = methods(reading.service)
    except HistoryRefused as refused:  # the service has no schedule here: the refusal names the file
        raise HistoryRefused(f"{name} {refused}") from None
    schedules = default_method_schedules() | dict(configured)
    method_for = {name: schedule.method_for for name, schedule in schedules.items()}
    inconsistent = {
        (month, data_type): why for month, data_type, why in inconsistencies(reading.values, method_for)
    }
    if reading.problems:
        problems = reading.problems
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
        raise HistoryRefused(
            f"{name} was not imported: {len(problems)} record(s) break the published format{more}: "
            + " | ".join(shown)
        )
    digest = hashlib.sha256(content).hexdigest()
    return PublishedHistory(reading.service, reading.values, tuple(reading.converted), inconsistent, digest)


def _records(content: bytes, name: str) -> list[Any]:
    """The file's JSON array, read strictly: UTF-8, nested no deeper than records, no repeated key."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HistoryRefused(f"{name} is not UTF-8 ({error.reason} at byte {error.start})") from None
    if nesting(text) > MAX_NESTING:  # before parsing: deep nesting would overflow the parser's recursion
        raise HistoryRefused(
            f"{name} nests arrays or objects deeper than {MAX_NESTING} levels, so it is not the published "
            "array of flat records"
        )
    try:
        items = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_int=_integer, parse_float=_fraction
        )
    except ValueError as error:
        raise HistoryRefused(f"{name} is not valid JSON: {error}") from None
    if not isinstance(items, list):
        raise HistoryRefused(
            f"{name} holds a JSON {type(items).__name__}, not the published array of records"
        )
    return items


def _service_of(items: list[Any], name: str) -> Service:
    """The one registered service whose records `items` are, from their `service` field."""
    found = sorted({str(item.get("service")) for item in items if isinstance(item, dict)})
    known = ", ".join(s.service for s in services())
    if not found:
        raise HistoryRefused(f"{name} holds no record, so it is no service's published series")
    if len(found) > 1:
        raise HistoryRefused(
            f"{name} mixes the records of {len(found)} services ({', '.join(found)}): import each service's "
            f"published data.json on its own"
        )
    service = service_named(found[0])
    if service is None:
        raise HistoryRefused(
            f"{name} holds records of the service {found[0]!r}, which perfplat does not publish: its "
            f"services are {known}"
        )
    return service


@dataclass
class _Reading:
    """The records read so far: their values, where each pair was first seen, and what is wrong."""

    last_closed: Month
    service: Service
    values: dict[Pair, float] = field(default_factory=dict)
    first_seen: dict[Pair, int] = field(default_factory=dict)
    converted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, position: int, item: Any) -> None:
        where = f"record {position}"
        if not isinstance(item, dict):
            self.problems.append(f"{where} is a JSON {type(item).__name__}, not a record")
            return
        count, was_string = _number(item.get("count"))
        found = _record_problems(item, count, self.last_closed, self.service)
        if found:
            self.problems.append(f"{where}: {'; '.join(found)}")
            return
        pair = (Month.from_timestamp(item["_timestamp"]), item["dataType"])
        if pair in self.first_seen:
            self.problems.append(
                f"{where} repeats ({item['_timestamp']}, {item['dataType']}) of record "
                f"{self.first_seen[pair]}"
            )
            return
        self.first_seen[pair] = position
        self.values[pair] = count_value(item["dataType"], count)
        if was_string:
            self.converted.append(
                f"{where} ({pair[0]} {pair[1]}): {item['count']!r} read as {self.values[pair]}"
            )


def _record_problems(item: dict[str, Any], count: Any, last_closed: Month, service: Service) -> list[str]:
    """Why a record of the file cannot be imported: the published format, and the series' start."""
    normalised = {name: item.get(name) for name in RECORD_FIELDS} | {"count": count}
    found = record_problems(normalised, last_closed, service.service)
    if set(item) != set(RECORD_FIELDS):  # in any order: the file's order is not the published format's
        found.insert(0, str(fields_problem(item)))
    if not found and not service.has(month := Month.from_timestamp(item["_timestamp"])):
        found.append(f"{month} is before {service.first_month}, where {service}'s series starts")
    return found
