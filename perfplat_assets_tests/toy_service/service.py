"""Renew a registration: a toy service, declared as every service is, publishing the toy measure."""

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service, Uses

RENEW_A_REGISTRATION = Service(
    name="renew_a_registration",
    service="renew-a-registration",
    title="Renew a registration",
    short_title="Renew a registration",
    stem="renew_a_registration",
    first_month=Month.of(2024, 1),
    measures=(Uses("average_processing_days"),),
    ckan_dataset="renew-a-registration-service-performance",
)
