"""What a service declares, once, so that the rest of perfplat reads it instead of naming a service: the
records' `service` value, the files' names, the titles, the first month, the measures and where the
publication goes. Each service's declaration is in its own folder (`services/<service>/service.py`) and is
registered in `services/registry.py`. Pure: no Dagster, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from perfplat_assets.common.months import Month

# OPG's own spellings: `service` and dataType values are letters and dashes (its validator's rule), file stems
# letters and underscores.
_SERVICE_VALUE = re.compile(r"[a-z]+(-[a-z]+)*")
_NAME = re.compile(r"[a-z]+(_[a-z]+)*")


@dataclass(frozen=True)
class Uses:
    """A measure a service publishes (by the measure's name) and, for a measure that services read from
    different kinds of source (user satisfaction), the kind its service reads: `feedback_exports`."""

    measure: str
    source: str = ""


@dataclass(frozen=True)
class Service:
    """An OPG service whose monthly figures perfplat publishes.

    `name` is perfplat's own name for it: its asset group, the prefix of its assets' keys and of its own
    settings (`PERFPLAT_<NAME>_...`). `service` is the value of its records' `service` field, `stem` the
    name OPG's repository and bucket give its files (`<stem>_service/data.json`, `<stem>_YY_MM.json`)."""

    name: str  # "make_an_lpa"
    service: str  # "make-a-lpa"
    title: str  # "Make a lasting power of attorney"
    short_title: str  # "Make an LPA": how a heading or an alert names it
    stem: str  # "make_a_lasting_power_of_attorney"
    first_month: Month  # the first month of its published series: nothing is asked of it before
    measures: tuple[Uses, ...]  # the measures it publishes, in the files' order, each with its source
    ckan_dataset: str  # its dataset on data.gov.uk, unless configured
    deadline: str = "0 11 1 * *"  # by when (a cron in UTC) its month must be published, unless configured
    # What a reader of its notes.md must know of how its figures are counted, beside each measure's note: a
    # paragraph, without its full stop.
    note: str = ""
    # The service perfplat published alone before services were declared: what that perfplat left without a
    # service (the metrics store's tables, the asset keys, the flat publication directory and S3 drop) is
    # this service's, and is carried over to its own on first use.
    inherits_single_service_layout: bool = False

    def __post_init__(self) -> None:
        for field, value, pattern in (
            ("name", self.name, _NAME),
            ("stem", self.stem, _NAME),
            ("service", self.service, _SERVICE_VALUE),
        ):
            if not pattern.fullmatch(value):
                raise ValueError(f"service {self.name!r}: its {field} {value!r} must be {pattern.pattern}")
        if not self.measures:
            raise ValueError(f"service {self.name!r} publishes no measure")

    @property
    def measure_names(self) -> tuple[str, ...]:
        return tuple(uses.measure for uses in self.measures)

    def source_of(self, measure: str) -> str:
        """The kind of source its `measure` is read from ("" where the measure has one kind only)."""
        return next((uses.source for uses in self.measures if uses.measure == measure), "")

    def month_file_name(self, month: Month) -> str:
        """The name OPG's monthly automation picks up, e.g. `make_a_lasting_power_of_attorney_26_06.json`."""
        return f"{self.stem}_{month.first_day:%y_%m}.json"

    @property
    def month_file_pattern(self) -> re.Pattern[str]:
        """Any of its month files' names."""
        return re.compile(rf"{re.escape(self.stem)}_\d{{2}}_\d{{2}}\.json")

    @property
    def folder(self) -> str:
        """Its folder in OPG's repository and in a publication: `make_a_lasting_power_of_attorney_service`."""
        return f"{self.stem}_service"

    @property
    def setting_prefix(self) -> str:
        """The prefix of its own settings: `PERFPLAT_MAKE_AN_LPA_`."""
        return f"PERFPLAT_{self.name.upper()}_"

    def has(self, month: Month) -> bool:
        """Whether its series has `month`: nothing is asked of its sources, or published, before its first."""
        return month >= self.first_month

    def __str__(self) -> str:
        return self.short_title
