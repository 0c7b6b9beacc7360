"""How perfplat reads a setting from the environment, checked when the code location loads.

Values that may hold secrets are passed on as `EnvVar`s, so Dagster reads them at run time and never shows
or stores them. `configuration` reads perfplat's own settings with these, and hands each measure's
`sources` module a `Settings` for the settings of its sources (see docs/ADDING_A_MEASURE.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any, TypeVar

from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from perfplat_assets.common.measure import Measure
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.service import Service
from perfplat_assets.common.sources import SourceResource

Source = TypeVar("Source", bound=SourceResource)


class SettingError(ValueError):
    """A setting that cannot work; the message names the variable and shows a valid example. Raised when
    the code location loads, before any source is asked for anything."""


def is_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def service_variable(service: Service, name: str, legacy: str | None = None) -> str:
    """The variable holding `service`'s own setting `name`: `PERFPLAT_<SERVICE>_<NAME>`, e.g.
    PERFPLAT_USE_AN_LPA_SATISFACTION_METHODS. For the service perfplat published alone before services were
    declared, the name that setting had then (`legacy`, by default `PERFPLAT_<NAME>`) keeps working while
    the new one is unset; both set to different values is refused, naming both."""
    own = f"{service.setting_prefix}{name}"
    if not service.inherits_single_service_layout:
        return own
    old = legacy or f"PERFPLAT_{name}"
    if is_set(old) and is_set(own) and os.environ[old].strip() != os.environ[own].strip():
        raise SettingError(
            f"{old} and {own} are both set, to different values: {own} is {service}'s, and {old} its name "
            f"before perfplat published several services; unset {old}"
        )
    return old if is_set(old) and not is_set(own) else own


def env(name: str, default: Any = None) -> Any:
    """The variable as an `EnvVar` when set (read at run time, never displayed), else the default."""
    return EnvVar(name) if is_set(name) else default


def given(**fields: str) -> dict[str, EnvVar]:
    """Resource fields whose variable is set, as `EnvVar`s; the others keep the resource's own default, so
    that a default is stated once, beside the field."""
    return {name: EnvVar(variable) for name, variable in fields.items() if is_set(variable)}


def number(
    name: str, default: float, kind: type[int] | type[float], low: float = 0, high: float | None = None
) -> Any:
    """A plain (non-secret) number within [low, high], read now so that a typo is reported at load."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    expected = "a whole number" if kind is int else "a number"
    span = f"from {low:g}" + (f" to {high:g}" if high is not None else "")
    try:
        value = kind(text)
    except ValueError:
        raise SettingError(f"{name} must be {expected}, not {text!r}: {span}, e.g. {default}") from None
    if not (low <= value and (high is None or value <= high)):  # NaN fails too
        raise SettingError(f"{name} must be {expected} {span}, not {text!r}: e.g. {default}")
    return value


TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


def flag(name: str) -> bool:
    """true/false, 1/0 or yes/no in any case; unset is false. Anything else is refused rather than read as
    false: `PERFPLAT_DRY_RUN=on` must not publish for real."""
    text = os.environ.get(name, "").strip().lower()
    if text in TRUE:
        return True
    if text in (*FALSE, ""):
        return False
    raise SettingError(
        f"{name} must be true or false (or 1/0, yes/no), not {os.environ[name]!r}: e.g. {name}=true"
    )


# The embedded sample is a distribution of its own (`sample/` in the checkout), never a dependency of
# perfplat: it is imported by this name, and only when a source's setting is unset.
SAMPLE_MODULE = "perfplat_sample.resources"
INSTALL_SAMPLE = (
    "install the embedded sample from perfplat's checkout (`make install`, or `pip install -e ./sample`)"
)

StandIns = Mapping[type[SourceResource], Callable[..., SourceResource]]


def sample_stand_ins() -> StandIns | None:
    """The embedded sample's stand-in for each kind of source (`STAND_INS`), or None where the sample is not
    installed (a deployment). Imported when first asked for: with every source configured, never."""
    try:
        module = import_module(SAMPLE_MODULE)
    except ModuleNotFoundError as missing:
        if missing.name is not None and SAMPLE_MODULE.startswith(missing.name):
            return None
        raise
    return module.STAND_INS


@dataclass(frozen=True)
class Settings:
    """What a measure's `sources` module builds its source resources with: the data directory; the embedded
    sample's stand-ins come from `sample_stand_ins`, asked only for a source whose settings are unset."""

    data_dir: str

    def source(
        self,
        kind: type[Source],
        configured: bool,
        sample: Callable[..., SourceResource] | None = None,
        **fields: Any,
    ) -> Source:
        """`kind` with `fields` when its settings are `configured`, else its stand-in in the embedded sample
        (`sample`, for a kind of source only its measure reads; else the embedded sample's own), which serves
        the sample and says so to the publication guard. Without the sample installed, an unset source is
        refused here, when the code location loads, naming its setting."""
        if configured:
            return kind(**fields)
        variable = fields.get("variable") or kind.setting
        stand_in = sample
        if stand_in is None:
            stand_ins = sample_stand_ins()
            if stand_ins is None:
                raise SettingError(
                    f"set {variable}: it is unset, and the embedded sample that would stand in for it is "
                    f"not installed; for a demonstration, {INSTALL_SAMPLE}"
                )
            stand_in = stand_ins.get(kind)
        if stand_in is None:
            raise SettingError(f"set {variable}: the embedded sample has no stand-in for {kind.__name__}")
        home = {"data_dir": self.data_dir} if "data_dir" in getattr(stand_in, "model_fields", {}) else {}
        return stand_in(**home, **fields)  # type: ignore[return-value]


def method_schedule(service: Service, measure: Measure) -> MethodSchedule:
    """The methods `measure` is made by in `service`'s series, month by month: its setting
    (`PERFPLAT_<SERVICE>_<Measure.methods_setting>`), else the measure's default; checked now, from the
    service's first month, so that a typo fails the code location."""
    variable = service_variable(service, measure.methods_setting)
    text = os.environ.get(variable, "").strip()
    try:
        schedule = measure.method_schedule(text)
        schedule.starts_by(service.first_month, f"{measure.title.lower()} method")
    except ValueError as error:
        raise SettingError(f"{variable}: {error}. A valid schedule: {measure.default_methods}") from None
    return schedule


class MethodScheduleSetting(ConfigurableResource):
    """Which method is in force from which month (`YYYY-MM:method,...`), for the measure whose method
    changes over time: the measure computes each month by it, and the publication states it for months it
    imported. Checked at load by the measure's `sources` module."""

    measure: str = Field(description="The measure whose method it is: user_satisfaction.")
    schedule: str = Field(description="e.g. 2021-03:weighted-gds,2026-04:top-two-box")
    methods: list[str] = Field(description="The methods the schedule may name.")
    what: str = Field(description='How a refusal names the schedule: "satisfaction method".')

    def parsed(self) -> MethodSchedule:
        return MethodSchedule.parse(self.schedule, self.methods, self.what)
