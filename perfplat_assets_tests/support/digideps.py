"""digideps' `satisfaction` table, made on a test database by digideps' own migrations."""

from __future__ import annotations

# digideps' migrations that make `satisfaction` (api/app/src/Migrations), in order; the foreign keys to
# `report` and `odr` are left out, as those tables are not made here.
MIGRATIONS = [
    # Version215
    "CREATE TABLE satisfaction (id SERIAL NOT NULL, score INT NOT NULL, deputy_role VARCHAR(50) NOT NULL, "
    "report_type VARCHAR(9) NOT NULL, created_at TIMESTAMP(0) WITHOUT TIME ZONE NOT NULL, PRIMARY KEY(id))",
    # Version221
    "ALTER TABLE satisfaction ALTER deputy_role DROP NOT NULL",
    "ALTER TABLE satisfaction ALTER report_type DROP NOT NULL",
    # Version243 (Version290 leaves it VARCHAR(1200))
    "ALTER TABLE satisfaction ADD comments VARCHAR(1200) DEFAULT NULL",
    # Version251
    "ALTER TABLE satisfaction ADD report_id INT DEFAULT NULL",
    "ALTER TABLE satisfaction ADD ndr_id INT DEFAULT NULL",
    "CREATE UNIQUE INDEX UNIQ_8A8E0C134BD2A4C0 ON satisfaction (report_id)",
    "CREATE UNIQUE INDEX UNIQ_8A8E0C13B7B86A31 ON satisfaction (ndr_id)",
]
# Version310 (April 2026): the new-deputy report goes, and `ndr_id` with it.
DROP_NDR = ["DROP INDEX uniq_8a8e0c13b7b86a31", "ALTER TABLE satisfaction DROP ndr_id"]
