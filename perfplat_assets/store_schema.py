"""Every stored asset's table, gathered: import this before a metrics store creates its schema.

Each measure's table is declared with the measure and registered with the store when its module is
imported; the store itself imports no measure, so whatever builds a store for the pipeline
(`configuration`, hence the code location and the `perfplat` command) imports this module: a schema created
without a table would leave it to a later run, whose role may not be allowed to create it.
"""

from perfplat_assets.measures import measures
from perfplat_assets.publication.published_format.table import performance_dataset_table

STORED_TABLES = (*(measure.table for measure in measures()), performance_dataset_table)
