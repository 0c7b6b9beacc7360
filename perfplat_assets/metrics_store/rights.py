"""The rights perfplat needs in the metrics store, and which of them its role lacks, asked of PostgreSQL.

The first time: CREATE on the schema, to create the tables; at an upgrade that adds columns, ownership of
those tables. Always: SELECT, INSERT, UPDATE and DELETE on the tables (`LOCK TABLE`, which keeps concurrent
writers of a table in turn, needs UPDATE or DELETE) and USAGE on their id sequences.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Connection, inspect, text

from perfplat_assets.common.database import MissingRight
from perfplat_assets.metrics_store.tables import metadata

TABLE_RIGHTS = ("SELECT", "INSERT", "UPDATE", "DELETE")

_TABLE = text(
    """
    SELECT n.nspname AS schema, pg_get_userbyid(c.relowner) AS owner,
           pg_has_role(c.relowner, 'USAGE') AS owned,
           has_table_privilege(c.oid, 'SELECT') AS "SELECT", has_table_privilege(c.oid, 'INSERT') AS "INSERT",
           has_table_privilege(c.oid, 'UPDATE') AS "UPDATE", has_table_privilege(c.oid, 'DELETE') AS "DELETE"
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = to_regclass(:name)
    """
)
_SEQUENCE = text(
    "SELECT s.name, has_sequence_privilege(s.name, 'USAGE') "
    "FROM pg_get_serial_sequence(:table, :column) AS s(name) WHERE s.name IS NOT NULL"
)


def missing_columns(connection: Connection, names: Sequence[str] | None = None) -> dict[str, list[Column]]:
    """Per existing table (of `names`, or all), the nullable columns an earlier perfplat did not create."""
    inspector = inspect(connection)
    missing: dict[str, list[Column]] = {}
    for table in metadata.sorted_tables:
        if names is not None and table.name not in names:
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        new = [column for column in table.columns if column.name not in present and column.nullable]
        if new:
            missing[table.name] = new
    return missing


def _listed(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def missing_rights(connection: Connection) -> list[MissingRight]:
    """Every right perfplat needs that the connection's role lacks, with the statement that gives it."""
    if connection.dialect.name != "postgresql":
        return []  # SQLite has no roles
    quote = connection.dialect.identifier_preparer.quote
    role, schema = connection.execute(text("SELECT current_user, current_schema()")).one()
    grantee = quote(role)
    if schema is None:
        return [
            MissingRight(
                "USAGE and CREATE on a schema in its search_path",
                f"GRANT USAGE, CREATE ON SCHEMA public TO {grantee};",
            )
        ]
    found = {}
    for table in metadata.sorted_tables:
        row = connection.execute(_TABLE, {"name": f"{quote(schema)}.{quote(table.name)}"}).mappings()
        found[table.name] = row.one_or_none()
    missing: list[MissingRight] = []
    absent = [name for name, row in found.items() if row is None]
    creatable = connection.execute(text("SELECT has_schema_privilege(:schema, 'CREATE')"), {"schema": schema})
    if absent and not creatable.scalar_one():
        tables = "perfplat's tables" if len(absent) == len(found) else f"the tables {', '.join(absent)}"
        missing.append(
            MissingRight(
                f"CREATE on the schema {schema}, to create {tables}",
                f"GRANT CREATE ON SCHEMA {quote(schema)} TO {grantee};",
            )
        )
    present = [name for name, row in found.items() if row is not None]
    for name, columns in missing_columns(connection, present).items():
        row = found[name]
        if not row["owned"]:
            qualified = f"{quote(schema)}.{quote(name)}"
            missing.append(
                MissingRight(
                    f"ownership of the table {qualified} (owned by {row['owner']}), to add its new "
                    f"column{'s' if len(columns) > 1 else ''} {_listed([c.name for c in columns])} "
                    f"(or run this perfplat once as {row['owner']})",
                    f"ALTER TABLE {qualified} OWNER TO {grantee};",
                )
            )
    lacking: dict[tuple[str, ...], list[str]] = {}
    for name in present:
        rights = tuple(right for right in TABLE_RIGHTS if not found[name][right])
        if rights:
            lacking.setdefault(rights, []).append(f"{quote(schema)}.{quote(name)}")
    for rights, tables in lacking.items():
        missing.append(
            MissingRight(
                f"{_listed(rights)} on {', '.join(tables)}",
                f"GRANT {', '.join(rights)} ON {', '.join(tables)} TO {grantee};",
            )
        )
    sequences = []
    for table in metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None or found[table.name] is None:
            continue
        arguments = {"table": f"{quote(schema)}.{quote(table.name)}", "column": column.name}
        for sequence, usable in connection.execute(_SEQUENCE, arguments):
            if not usable:
                sequences.append(sequence)
    if sequences:
        missing.append(
            MissingRight(
                f"USAGE on the sequence{'s' if len(sequences) > 1 else ''} {', '.join(sequences)}",
                f"GRANT USAGE ON SEQUENCE {', '.join(sequences)} TO {grantee};",
            )
        )
    return missing
