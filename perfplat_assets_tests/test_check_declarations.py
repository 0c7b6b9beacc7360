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
