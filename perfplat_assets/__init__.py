"""perfplat: the monthly service performance data of OPG's services, collated with Dagster for data.gov.uk."""
