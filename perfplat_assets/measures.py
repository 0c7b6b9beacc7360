"""The registered measures, one line each, in the order the dataset, `data.csv` and the report show them.

Everything downstream of the measures (the dataset, the records, the CSVW, the notes, the report, the
store's tables, the schedules, the queue and the definitions) reads them from here and names none. A
measure is declared once, in its own folder (`<measure>/measure.py`, see docs/ADDING_A_MEASURE.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from perfplat_assets.common.measure import DataType, Measure
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import method_schedule
from perfplat_assets.completion_rate.measure import COMPLETION_RATE
from perfplat_assets.digital_take_up.measure import DIGITAL_TAKE_UP
from perfplat_assets.uptime.measure import UPTIME
from perfplat_assets.user_satisfaction.measure import USER_SATISFACTION

# A measure's method month by month, by measure name: what the notes, the CSVW and the report state.
Methods = Mapping[str, Mapping[Month, str]]

_registered: list[Measure] = [
    USER_SATISFACTION,
    DIGITAL_TAKE_UP,
    COMPLETION_RATE,
    UPTIME,
]
_read = False


def register(measure: Measure) -> None:
    """Add a measure after the built-in ones: for a measure that lives outside this package (the tests'
    toy measure). It must happen before anything reads the registry, which fixes it for the process."""
    if _read:
        raise RuntimeError(
            f"register {measure.name} before anything reads the measures: perfplat has read them already"
        )
    if any(known.name == measure.name for known in _registered):
        raise ValueError(f"a measure named {measure.name} is registered already")
    clashes = {d.name for d in measure.data_types} & {d.name for d in _all_data_types()}
    if clashes:
        raise ValueError(f"{measure.name} publishes dataTypes another measure does: {sorted(clashes)}")
    _registered.append(measure)


def measures() -> tuple[Measure, ...]:
    """Every registered measure; from the first call on, no more can be registered."""
    global _read
    _read = True
    return tuple(_registered)


def _all_data_types() -> Iterator[DataType]:
    """Every dataType registered so far, without fixing the registry."""
    for measure in _registered:
        yield from measure.data_types


def service_measures(service: Service) -> tuple[Measure, ...]:
    """The registered measures `service` publishes, in the order its declaration gives them."""
    by_name = {measure.name: measure for measure in measures()}
    missing = [name for name in service.measure_names if name not in by_name]
    if missing:
        raise ValueError(f"{service.name} publishes {', '.join(missing)}, which no registered measure is")
    return tuple(by_name[name] for name in service.measure_names)


def service_data_types(service: Service) -> tuple[DataType, ...]:
    """Every dataType `service` publishes, measure by measure: the column order of its `data.csv`."""
    return tuple(data_type for measure in service_measures(service) for data_type in measure.data_types)


def data_types() -> tuple[DataType, ...]:
    """Every published dataType, measure by measure: the column order of `data.csv`."""
    return tuple(data_type for measure in measures() for data_type in measure.data_types)


def method_measures() -> tuple[Measure, ...]:
    """The measures made by methods that change over time (user satisfaction's schedule): the notes, the
    CSVW and the report state each one's method month by month."""
    return tuple(measure for measure in measures() if measure.methods)


def default_method_schedules() -> dict[str, MethodSchedule]:
    """By measure, the methods in force unless configured (OPG's schedule for user satisfaction): what the
    files state for a month imported from published history, which the store holds without one."""
    return {m.name: m.method_schedule() for m in method_measures() if m.default_methods}


def method_schedules(service: Service) -> dict[str, MethodSchedule]:
    """By measure, the methods in force month by month in `service`'s series: its setting
    (`PERFPLAT_<SERVICE>_<Measure.methods_setting>`), else the measure's default; checked from the service's
    first month. What a run computes by, and what an import of its published history is read by."""
    return {m.name: method_schedule(service, m) for m in service_measures(service) if m.methods}


def measure_of(data_type: str) -> Measure | None:
    """The registered measure that publishes `data_type`."""
    return next((m for m in measures() if any(d.name == data_type for d in m.data_types)), None)


def run_tags(assets: Sequence[str] | None) -> dict[str, str]:
    """The tags a run materialising `assets` (None: every asset) carries for the measures among them."""
    return {
        key: value
        for measure in measures()
        if assets is None or measure.name in assets
        for key, value in measure.run_tags.items()
    }
