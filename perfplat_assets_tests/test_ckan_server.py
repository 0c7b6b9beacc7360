"""The CKAN fixture works as data.gov.uk's CKAN will for perfplat: a resource registered on the dataset
through the Action API, with perfplat's extra fields kept, and a wrong API token refused."""

import pytest

from perfplat_assets_tests.ckan.fixture import (
    CkanActionError,
    CkanSite,
    ckan_action,
    ckan_server,  # noqa: F401 -- a fixture, used through ckan_site
    ckan_site,  # noqa: F401 -- a fixture
)

JUNE_CSV = "https://example.com/perfplat/2026-06/make-a-lasting-power-of-attorney.csv"


def test_the_dataset_is_shown_to_the_token_holder(ckan_site: CkanSite) -> None:  # noqa: F811
    dataset = ckan_action(ckan_site, "package_show", {"id": ckan_site.dataset})

    assert dataset["name"] == ckan_site.dataset
    assert dataset["organization"]["name"] == ckan_site.organization
    assert dataset["resources"] == []


def test_a_resource_is_registered_with_its_extra_fields_then_patched(ckan_site: CkanSite) -> None:  # noqa: F811
    created = ckan_action(
        ckan_site,
        "resource_create",
        {
            "package_id": ckan_site.dataset,
            "url": JUNE_CSV,
            "name": "Make a lasting power of attorney: June 2026",
            "format": "CSV",
            "resource-type": "data-link",
            "datafile-date": "2026-06-01",
        },
    )

    resources = ckan_action(ckan_site, "package_show", {"id": ckan_site.dataset})["resources"]
    assert [resource["id"] for resource in resources] == [created["id"]]
    (resource,) = resources
    assert resource["url"] == JUNE_CSV
    assert resource["format"] == "CSV"
    assert resource["resource-type"] == "data-link"
    assert resource["datafile-date"] == "2026-06-01"

    moved = JUNE_CSV.replace(".csv", "-v2.csv")
    ckan_action(ckan_site, "resource_patch", {"id": created["id"], "url": moved})
    (patched,) = ckan_action(ckan_site, "package_show", {"id": ckan_site.dataset})["resources"]
    assert patched["url"] == moved
    assert patched["datafile-date"] == "2026-06-01"


def test_each_test_starts_with_no_resources(ckan_site: CkanSite) -> None:  # noqa: F811
    """Runs after the test above has added one: the fixture's reset removed it."""
    assert ckan_action(ckan_site, "package_show", {"id": ckan_site.dataset})["resources"] == []


def test_a_wrong_token_is_refused(ckan_site: CkanSite) -> None:  # noqa: F811
    # A well-formed JWT whose signature no longer matches: CKAN treats the caller as anonymous.
    wrong = ckan_site.api_token[:-4] + ("AAAA" if not ckan_site.api_token.endswith("AAAA") else "BBBB")

    with pytest.raises(CkanActionError) as refused:
        ckan_action(
            ckan_site,
            "resource_create",
            {"package_id": ckan_site.dataset, "url": JUNE_CSV, "name": "not allowed", "format": "CSV"},
            token=wrong,
        )

    assert refused.value.status == 403
    assert refused.value.error_type == "Authorization Error"
    assert ckan_action(ckan_site, "package_show", {"id": ckan_site.dataset})["resources"] == []
