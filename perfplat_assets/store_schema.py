"""Every service's tables, made: import this before a metrics store creates its schema.

Each asset's table is declared once, as a template, with its asset; each registered service gets its own
copy of its measures' tables, the dataset's and its publication record's (`metrics_store.tables`). The store
itself imports no measure and no service, so whatever builds a store for the pipeline (`configuration`,
hence the code location and the `perfplat` command) imports this module: a schema created without a table
would leave it to a later run, whose role may not be allowed to create it.
"""

from sqlalchemy import Table

from perfplat_assets.common.service import Service
from perfplat_assets.measures import measures
from perfplat_assets.metrics_store.tables import PUBLICATION_RECORD, service_table
from perfplat_assets.publication.published_format.table import performance_dataset_table
from perfplat_assets.services.registry import services


def service_tables(service: Service) -> tuple[Table, ...]:
    """The service's own tables: its measures', its dataset's and its publication record's."""
    templates = (
        *(measure.table for measure in measures() if measure.name in service.measure_names),
        performance_dataset_table,
        *PUBLICATION_RECORD,
    )
    return tuple(service_table(service.name, template) for template in templates)


STORED_TABLES = tuple(table for service in services() for table in service_tables(service))
