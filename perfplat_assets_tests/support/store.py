"""Make an LPA's own tables in the metrics store, which most tests read: the service's copies of the
publication record's templates (`metrics_store.tables.publication_record`), made as the code location makes
them."""

from perfplat_assets.metrics_store.tables import publication_record
from perfplat_assets.store_schema import STORED_TABLES

assert STORED_TABLES  # every service's tables, made before a store creates its schema
_RECORD = publication_record("make_an_lpa")
published_records, imports = _RECORD.published_records, _RECORD.imports
revisions, publications = _RECORD.revisions, _RECORD.publications
