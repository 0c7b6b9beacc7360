"""Every source's answer, checked before anything of it is stored. Pure: no Dagster, no I/O.

A source's reader hands each row of its answer to an `AnswerCheck` as it reads it, and gets back an `Answer`:
the months whose rows hold, and apart from them, what was wrong with the others and what the answer held
outside the request. A row for a month that was not asked for is ignored and reported, never stored. A month
whose rows break a rule (a count that is not a whole number, 0 or more; a month, or a month and key, given
twice; a rule of the source's own) is *wrong*: nothing of it is used, and its measure is withheld for that
month with one sentence naming the source and what was wrong (`Answer.reasons`), as a month a source cannot
give yet is left out (the measure's `not_available_reason`). The other months are counted as usual.

Values from an answer are shown short (`shown`), and a key that may come from people (a rating's text) is
never shown at all: a message says where and what is wrong.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from perfplat_assets.common.months import Month

T = TypeVar("T")

COUNT_RULE = "a count must be a whole number, 0 or more"
SHOWN_AT_MOST = 40  # characters of a value from an answer, in a message


def shown(value: object) -> str:
    """A value from an answer as a message shows it: a number as it is, anything else quoted, and never
    more than `SHOWN_AT_MOST` characters (an answer's text is the source's, not perfplat's)."""
    text = repr(value) if value is None or isinstance(value, int | float) else repr(str(value))
    return text if len(text) <= SHOWN_AT_MOST else text[: SHOWN_AT_MOST - 1] + "…"


def is_count(value: object) -> bool:
    """A whole number, 0 or more, as a count is: an `int`, not a bool, a float (even 3.0), a decimal or
    text. A count that is anything else did not come from counting."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_share(value: object) -> bool:
    """A finite number from 0 to 1, as a health check's hourly average is."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1
    )


def _times(number: int) -> str:
    return "twice" if number == 2 else f"{number} times"


class Answer(dict[Month, T], Generic[T]):
    """A source's answer for a run's months: each month whose rows hold, by month (a plain mapping, so a
    month that came back whole reads as before), and apart, `faults` (what was wrong with each month left
    out) and `ignored` (what the answer held outside the request, reported and never stored)."""

    def __init__(
        self,
        values: Mapping[Month, T] | None = None,
        faults: Mapping[Month, Sequence[str]] | None = None,
        ignored: Sequence[str] = (),
    ) -> None:
        super().__init__(values or {})
        self.faults: dict[Month, tuple[str, ...]] = {month: tuple(f) for month, f in (faults or {}).items()}
        self.ignored: tuple[str, ...] = tuple(ignored)

    @classmethod
    def of(cls, found: Mapping[Month, T]) -> Answer[T]:
        """`found` as an answer: itself when it is one (checked), else one with nothing wrong or ignored."""
        return found if isinstance(found, Answer) else cls(found)

    def reasons(self, source: str, measure: str) -> dict[Month, str]:
        """Why each wrong month's measure is withheld, one sentence each naming `source` (who answered, and
        the setting that names it) and what was wrong: "<source>: 2026-05 has -1756 journeys started, and a
        count must be a whole number, 0 or more; 2026-05's completion rate is withheld"."""
        return {
            month: f"{source}: {month} {'; '.join(faults)}; {month}'s {measure} is withheld"
            for month, faults in sorted(self.faults.items())
        }

    def said_ignored(self, source: str) -> list[str]:
        """What the answer held outside the request, each naming `source`, for the run's log and metadata."""
        return [f"{source} {what}: ignored, never stored" for what in self.ignored]

    def said(self, source: str, measure: str) -> list[str]:
        """What a run's log says of the answer: why each wrong month's measure is withheld, and what was
        ignored."""
        return [*self.reasons(source, measure).values(), *self.said_ignored(source)]

    def metadata(self, source: str) -> dict[str, str]:
        """What the answer held outside the request, for the materialisation's metadata (each wrong month's
        reason is the month's own `not_available_reason`)."""
        return {"ignored in the answer": "; ".join(self.said_ignored(source))} if self.ignored else {}

    def by_month(self, months: Iterable[Month], source: str, measure: str) -> dict[Month, T | str]:
        """Each of `months`: its value, or why its measure is withheld (a month absent from both is left
        out, for the reader to say what a month with no rows means)."""
        reasons = self.reasons(source, measure)
        found: dict[Month, T | str] = {}
        for month in months:
            if month in reasons:
                found[month] = reasons[month]
            elif month in self:
                found[month] = self[month]
        return found


class AnswerCheck:
    """The rules every row of an answer is held to, applied while the reader reads it. `asked` is what the
    query asked for (the months its window covers); a row for any other month is ignored and reported."""

    def __init__(self, asked: Sequence[Month]) -> None:
        self.asked = frozenset(asked)
        self._counts: dict[Month, list[str]] = defaultdict(list)
        self._faults: dict[Month, list[str]] = defaultdict(list)
        self._ignored: list[str] = []
        self._seen: Counter[tuple[Month, Hashable]] = Counter()
        self._what: dict[tuple[Month, Hashable], str] = {}

    def month(self, month: Month | None, named: str) -> Month | None:
        """`month` if it was asked for; otherwise None, and the row reported as ignored (`named`: how the
        answer named its month, as a message shows it)."""
        if month is not None and month in self.asked:
            return month
        self._ignored.append(f"answered for {named}, which was not asked for")
        return None

    def month_named(self, label: object, parse: Callable[[str], Month] = Month.parse) -> Month | None:
        """The month an answer's text names (`parse`: its form, `YYYY-MM` by default), if asked for; text
        that is no month is reported as ignored, as any month not asked for is."""
        try:
            month = parse(label) if isinstance(label, str) else None
        except ValueError:
            month = None
        if month is None:
            self._ignored.append(f"answered for {shown(label)}, which is not a month")
            return None
        return self.month(month, shown(label))

    def month_at(self, position: object, months: Sequence[Month]) -> Month | None:
        """The month a query numbered from 1 (`months` in its order), if it is one; otherwise ignored and
        reported."""
        if isinstance(position, int) and not isinstance(position, bool) and 1 <= position <= len(months):
            return self.month(months[position - 1], str(months[position - 1]))
        self._ignored.append(f"answered for month number {shown(position)} of {len(months)} asked for")
        return None

    def once(self, month: Month, key: Hashable = None, what: str = "") -> bool:
        """Whether this is the first row of `month` (and `key`); a repeat makes the month wrong. `what` says
        what was repeated ("the row of satisfied responses"), never the key itself, which may be text from
        people."""
        self._seen[(month, key)] += 1
        self._what[(month, key)] = what
        return self._seen[(month, key)] == 1

    def ignore(self, what: str) -> None:
        """Something the answer held outside the request (`what`, after the source's name): reported."""
        self._ignored.append(what)

    def count(self, month: Month, value: object, what: str) -> int:
        """`value` as a count of `what` ("journeys started"); one that is not a whole number, 0 or more,
        makes the month wrong (and 0 is returned, never used)."""
        if isinstance(value, int) and is_count(value):
            return value
        self._counts[month].append(f"{shown(value)} {what}")
        return 0

    def fault(self, month: Month, what: str) -> None:
        """The month is wrong: `what` says why, after the month ("has 20 journeys completed but 10 started,
        and completions never exceed starts")."""
        self._faults[month].append(what)

    def answer(self, values: Mapping[Month, T], among: Collection[Month] | None = None) -> Answer[T]:
        """The answer: `values` of the months that hold (the wrong ones are left out of it), the faults of
        the others (of those `among`, when the query's window covers more months than the run wants), and
        what was ignored."""
        repeats: dict[Month, list[str]] = defaultdict(list)
        for (month, key), times in self._seen.items():
            if times > 1 and (what := self._what[(month, key)]):
                repeats[month].append(f"has {what} {_times(times)} in the answer, and each must come once")
            elif times > 1:
                repeats[month].append(f"appears {_times(times)} in the answer, and a month must appear once")
        faults: dict[Month, list[str]] = {}
        wrong = set(self._counts) | set(self._faults) | set(repeats)
        for month in sorted(wrong if among is None else wrong & set(among)):
            counts = self._counts.get(month, [])
            said = [f"has {' and '.join(counts)}, and {COUNT_RULE}"] if counts else []
            faults[month] = list(dict.fromkeys(said + repeats.get(month, []) + self._faults.get(month, [])))
        kept = {month: value for month, value in values.items() if month not in faults}
        return Answer(kept, faults, list(dict.fromkeys(self._ignored)))
