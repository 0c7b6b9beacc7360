"""perfplat: Make an LPA's monthly service performance data, collated with Dagster for data.gov.uk."""
