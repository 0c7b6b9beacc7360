"""The registered services, one line each, in the order a publication lists them.

Everything that differs by service (the records' `service` value, the files' names and titles, the first
month, the measures, the CKAN dataset) is read from a service's declaration (`<service>/service.py`), never
written elsewhere. See docs/ADDING_A_SERVICE.md.
"""

from __future__ import annotations

from dataclasses import replace

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service, Uses
from perfplat_assets.services.deputy_reporting.service import DEPUTY_REPORTING
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.services.use_an_lpa.service import USE_AN_LPA

_registered: list[Service] = [
    MAKE_AN_LPA,
    USE_AN_LPA,
    DEPUTY_REPORTING,
]
_read = False


def register(service: Service) -> None:
    """Add a service after the built-in ones: for a service that lives outside this package (the tests' toy
    service). It must happen before anything reads the registry, which fixes it for the process."""
    if _read:
        raise RuntimeError(
            f"register {service.name} before anything reads the services: perfplat has read them already"
        )
    for known in _registered:
        for field in ("name", "service", "stem"):
            if getattr(known, field) == getattr(service, field):
                raise ValueError(
                    f"a service whose {field} is {getattr(service, field)!r} is registered already"
                )
    _registered.append(service)


def also_publishes(name: str, uses: Uses) -> None:
    """Have the registered service `name` publish one more measure, after its own: for a measure that lives
    outside this package (the tests' toy measure). Before anything reads the registry, as `register`."""
    if _read:
        raise RuntimeError(f"add {uses.measure} to {name} before anything reads the services")
    found = next((i for i, s in enumerate(_registered) if s.name == name), None)
    if found is None:
        raise ValueError(f"no service is called {name!r}")
    service = _registered[found]
    _registered[found] = replace(service, measures=(*service.measures, uses))


def services() -> tuple[Service, ...]:
    """Every registered service; from the first call on, no more can be registered."""
    global _read
    _read = True
    return tuple(_registered)


def service_named(value: str) -> Service | None:
    """The registered service whose records carry `value` in their `service` field (`make-a-lpa`)."""
    return next((s for s in services() if s.service == value), None)


def first_month() -> Month:
    """The first month of any registered service's series: where the shared months begin."""
    return min(service.first_month for service in services())


def service_called(name: str) -> Service:
    """The registered service perfplat calls `name` (`make_an_lpa`): how a resource names its service."""
    found = next((s for s in services() if s.name == name), None)
    if found is None:
        known = ", ".join(s.name for s in services())
        raise ValueError(f"no service is called {name!r}: the registered ones are {known}")
    return found
