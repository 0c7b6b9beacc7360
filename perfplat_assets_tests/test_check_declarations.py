"""Every quality rule is declared as a check of one asset, beside what it checks, and every check Dagster
knows has its rule."""

import inspect

from perfplat_assets.completion_rate import checks as completion_rate
from perfplat_assets.definitions import service_assets
from perfplat_assets.digital_take_up import checks as digital_take_up
from perfplat_assets.publication.published_format import checks as publication
from perfplat_assets.services.registry import services
from perfplat_assets.uptime import checks as uptime
from perfplat_assets.user_satisfaction import checks as user_satisfaction

MODULES = (user_satisfaction, digital_take_up, completion_rate, uptime, publication)
DECLARED = [check for module in MODULES for check in module.CHECKS]


def _rules() -> set[str]:
    """The checks modules' functions shaped as a rule: the run's figures and the limits, to findings."""
    return {
        name
        for module in MODULES
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and list(inspect.signature(function).parameters)[1:] in (["_"], ["limits"])
    }


def test_every_rule_is_a_check_and_every_check_a_rule():
    assert sorted(check.name for check in DECLARED) == sorted(_rules())


SATISFACTION = [
    ("user_satisfaction", "enough_responses"),
    ("user_satisfaction", "rating_counts_add_up"),
    ("user_satisfaction", "unknown_ratings_within_share"),
]
# Every service's dataset and publication have these; its measures have theirs.
EVERY_SERVICE = [
    ("data_gov_uk_publication", "published_by_deadline"),  # a rule of time, not of the values
    ("performance_dataset", "records_in_published_format"),
]


def test_the_checks_dagster_runs_are_the_declared_ones():
    keys = [key for service in services() for asset in service_assets(service) for key in asset.check_keys]
    by_service: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        service, asset = key.asset_key.path
        by_service.setdefault(service, []).append((asset, key.name))
    assert {service: sorted(checks) for service, checks in by_service.items()} == {
        "make_an_lpa": sorted(
            [
                ("completion_rate", "completion_rate_agrees_with_applications"),
                ("completion_rate", "completion_rate_available"),
                ("completion_rate", "completion_rate_within_range"),
                ("completion_rate", "ga4_response_exact"),
                ("digital_take_up", "digital_within_total"),
                ("uptime", "uptime_has_enough_data"),
                ("uptime", "uptime_within_range"),
                *SATISFACTION,
                *EVERY_SERVICE,
            ]
        ),
        "use_an_lpa": sorted([*SATISFACTION, *EVERY_SERVICE]),
        "deputy_reporting": sorted([*SATISFACTION, *EVERY_SERVICE]),
    }


def test_a_checks_text_never_contradicts_what_dagster_prints_above_it():
    """Dagster prints "This is a non-blocking asset check." above every check here (perfplat does not use its
    `blocking` flag): each description says, in those words, what perfplat itself does when it fails."""
    specs = {
        (service.name, *spec.key.asset_key.path[1:], spec.key.name): spec
        for service in services()
        for asset in service_assets(service)
        for spec in asset.check_specs
    }
    assert specs and not any(spec.blocking for spec in specs.values())
    assert all(spec.description.startswith("Non-blocking in Dagster's sense") for spec in specs.values())
    assert not any("Blocks publication" in spec.description for spec in specs.values())
    withholding = (
        "Non-blocking in Dagster's sense: the run goes on to the assets downstream. perfplat itself "
        "withholds {} when it fails (severity ERROR): the publication leaves it out, keeps any earlier "
        "publication of it, and the run fails naming the check. "
    )
    assert specs[("make_an_lpa", "uptime", "uptime_within_range")].description == (
        withholding.format("this measure's figure for the month") + "Uptime is within 0..100."
    )
    assert specs[("use_an_lpa", "performance_dataset", "records_in_published_format")].description.startswith(
        withholding.format("the whole month")
    )
    assert specs[("make_an_lpa", "uptime", "uptime_has_enough_data")].description == (
        "Non-blocking in Dagster's sense and in perfplat's: when it fails (severity WARN) the failure is "
        "recorded and withholds nothing. The health check has data for enough of the month's hours. With "
        "too few there is no uptime figure, so the month is published without one (never as 0); this check "
        "says so."
    )
    deadline = specs[("deputy_reporting", "data_gov_uk_publication", "published_by_deadline")]
    assert deadline.description.startswith(
        "Non-blocking in Dagster's sense and in perfplat's: it withholds nothing; a failure (severity ERROR) "
        "is what perfplat's alert sensor alerts on. Complete the deputy report's month that closed last was "
        "first published by a run (not imported) at or before its deadline "
        "(PERFPLAT_DEPUTY_REPORTING_PUBLICATION_DEADLINE)"
    )
