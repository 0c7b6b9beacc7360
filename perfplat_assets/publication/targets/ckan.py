"""data.gov.uk's CKAN, when PERFPLAT_CKAN_URL is set: one resource on the dataset, linking to the hosted
cumulative CSV; a publication target of the shape `committing/target.py` gives, which holds no files."""

from __future__ import annotations

import ast
import json
from contextlib import suppress
from typing import Any, ClassVar

import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ValidationError
from dagster import ConfigurableResource
from pydantic import Field

from perfplat_assets.common.network import unreachable_cause
from perfplat_assets.common.settings import shown_url
from perfplat_assets.publication.committing.plan import PublicationPlan
from perfplat_assets.publication.committing.target import Change, PublicationFailed
from perfplat_assets.services.registry import service_called


class CkanCatalogue(ConfigurableResource):
    """data.gov.uk (CKAN): one resource on the dataset, linking to the hosted cumulative CSV."""

    name: ClassVar[str] = "ckan"
    label: ClassVar[str] = "CKAN"
    holds_files: ClassVar[bool] = False
    url: str | None = Field(default=None, description="CKAN site URL (PERFPLAT_CKAN_URL); unset: no CKAN.")
    api_token: str | None = Field(default=None, description="API token (PERFPLAT_CKAN_API_TOKEN).")
    service: str = Field(description="The service whose dataset it is, by name: make_an_lpa.")
    dataset: str | None = Field(default=None, description="Dataset name or id; unset: the service's own.")

    @property
    def dataset_id(self) -> str:
        """The dataset: as configured, else the one the service declares."""
        return self.dataset or service_called(self.service).ckan_dataset

    @property
    def resource_name(self) -> str:
        return f"{service_called(self.service).short_title} monthly service performance (CSV)"

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @property
    def site(self) -> str:
        """The site as a message names it: never credentials or a query, should the URL a run reads carry
        them (the code location refuses them, but a run reads its own environment)."""
        return shown_url(self.url or "", path=True)

    def _call(self, action: str, **data: Any) -> Any:
        """An Action API call whose failure names the action and CKAN's own message, never the token; a
        CKAN never reached is told apart from CKAN's answer, since only a setting or the network fixes it."""
        try:
            with RemoteCKAN(self.url, apikey=self.api_token, user_agent="perfplat") as ckan:
                return ckan.call_action(action, data)
        except NotAuthorized as error:
            raise PublicationFailed(
                f"CKAN {action} on {self.site} was refused as not authorised ({_message(error)}): "
                "check PERFPLAT_CKAN_API_TOKEN and the token's rights on the dataset"
            ) from None
        except NotFound as error:
            raise PublicationFailed(f"CKAN {action} on {self.site}: not found ({_message(error)})") from None
        except ValidationError as error:
            raise PublicationFailed(
                f"CKAN {action} on {self.site} refused the data: {_message(error)}"
            ) from None
        except CKANAPIError as error:
            raise PublicationFailed(f"CKAN {action} on {self.site} failed: {_message(error)}") from None
        except requests.RequestException as error:
            cause = unreachable_cause(error)
            if cause is None:
                raise PublicationFailed(
                    f"CKAN {action} on {self.site} got no usable answer ({type(error).__name__})"
                ) from None
            raise PublicationFailed(
                f"CKAN {action}: cannot reach {self.site}: {cause}; check the network, proxy or endpoint "
                "setting PERFPLAT_CKAN_URL"
            ) from None

    def _resource(self, csv_url: str, datafile_date: str) -> dict[str, Any]:
        return {
            "name": self.resource_name,
            "description": "Monthly figures, a row per month; methods in the CSVW metadata beside the file.",
            "url": csv_url,
            "format": "CSV",
            "mimetype": "text/csv",
            "resource-type": "data-link",
            "datafile-date": datafile_date,
        }

    def check_access(self) -> None:
        """Before anything is written: the dataset exists and the token may update it. (CKAN treats an
        unknown token as anonymous, so a read alone would not tell.)"""
        dataset = self._call("package_show", id=self.dataset_id)
        allowed = self._call("organization_list_for_user", permission="update_dataset")
        if dataset.get("owner_org") not in {organization["id"] for organization in allowed}:
            raise PublicationFailed(
                f"CKAN on {self.site}: the API token may not update dataset {self.dataset_id}; check "
                "PERFPLAT_CKAN_API_TOKEN (an unknown token counts as anonymous) and the token's organisation"
            )

    def _existing(self) -> dict[str, Any] | None:
        dataset = self._call("package_show", id=self.dataset_id)
        ours = [r for r in dataset.get("resources", []) if r.get("name") == self.resource_name]
        return ours[0] if ours else None

    def read_current(self, plan: PublicationPlan) -> dict[str, Any] | None:
        """The resource as it is, once the token is known to be allowed to change it."""
        self.check_access()
        return self._existing()

    def _wanted(self, plan: PublicationPlan) -> dict[str, Any]:
        if plan.ckan is None:
            raise PublicationFailed(
                "CKAN is on but the plan has no CKAN change: set PERFPLAT_PUBLIC_BASE_URL"
            )
        return self._resource(plan.ckan.csv_url, plan.ckan.datafile_date)

    def changes(self, plan: PublicationPlan, current: dict[str, Any] | None) -> list[Change]:
        if current is None:
            return [Change(self.name, self.resource_name, "create")]
        same = all(current.get(key) == value for key, value in self._wanted(plan).items())
        return [Change(self.name, self.resource_name, "unchanged" if same else "update")]

    def apply(self, plan: PublicationPlan, current: dict[str, Any] | None) -> None:
        """Create the resource the first time; patch it afterwards, so there is never a duplicate."""
        existing = self._existing()  # a create that failed after CKAN made it must not make a second
        if existing is None:
            self._call("resource_create", package_id=self.dataset_id, **self._wanted(plan))
        elif self.changes(plan, existing)[0].action != "unchanged":
            self._call("resource_patch", id=existing["id"], **self._wanted(plan))

    def undo(self, plan: PublicationPlan, current: dict[str, Any] | None) -> str | None:
        existing = self._existing()
        if existing is None:
            return None
        if current is None:
            self._call("resource_delete", id=existing["id"])
            return "holds no resource, as before"
        previous = {key: current.get(key) for key in self._wanted(plan)}
        if all(existing.get(key) == value for key, value in previous.items()):
            return None
        self._call("resource_patch", id=existing["id"], **previous)
        return "restored to the previous resource"


def _message(error: Exception) -> str:
    """CKAN's own message. ckanapi gives an error dict for an action CKAN refused, and the URL, the status
    and the raw body for an answer it could not read as one (a 500, say): the message is taken from the
    body's JSON where it holds one, else the status and the start of the body."""
    detail = error.args[0] if error.args else error
    if isinstance(detail, str) and detail.startswith("["):  # ckanapi's repr([url, status, body])
        with suppress(ValueError, SyntaxError):
            detail = ast.literal_eval(detail)
    if isinstance(detail, list | tuple) and len(detail) == 3 and isinstance(detail[1], int):
        _, status, body = detail
        try:
            detail = json.loads(body)["error"]
        except (ValueError, TypeError, KeyError):
            return f"HTTP {status}: {' '.join(str(body).split())[:200]}"
    if isinstance(detail, dict):
        detail = detail.get("message") or {k: v for k, v in detail.items() if k != "__type"}
    return str(detail)
