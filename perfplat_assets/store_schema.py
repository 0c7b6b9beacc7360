"""Every stored asset's table, gathered: import this before a metrics store creates its schema.

Each table is declared beside its asset and registered with the store when its module is imported; the
store itself imports no measure, so whatever builds a store for the pipeline (`configuration`, hence the
code location and the `perfplat` command) imports this module: a schema created without a table would
leave it to a later run, whose role may not be allowed to create it.
"""

from perfplat_assets.completion_rate.table import completion_rate_table
from perfplat_assets.digital_take_up.table import digital_take_up_table
from perfplat_assets.publication.table import performance_dataset_table
from perfplat_assets.uptime.table import uptime_table
from perfplat_assets.user_satisfaction.table import user_satisfaction_table

STORED_TABLES = (
    user_satisfaction_table,
    digital_take_up_table,
    completion_rate_table,
    uptime_table,
    performance_dataset_table,
)
