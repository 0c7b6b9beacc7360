"""The rights perfplat needs in the metrics store, and which of them its role lacks, asked of PostgreSQL.

The first time: CREATE on the schema, to create the tables; at an upgrade that adds columns, ownership of
those tables. Always: SELECT, INSERT, UPDATE and DELETE on the tables (`LOCK TABLE`, which keeps concurrent
writers of a table in turn, needs UPDATE or DELETE) and USAGE on their id sequences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class _Role:
    """The role asking, its schema, and what PostgreSQL says of each of perfplat's tables (None: absent)."""

    connection: Connection
    schema: str
    grantee: str
    found: Mapping[str, Mapping[str, Any] | None]

    def qualified(self, name: str) -> str:
        quote = self.connection.dialect.identifier_preparer.quote
        return f"{quote(self.schema)}.{quote(name)}"

    @property
    def present(self) -> list[str]:
        return [name for name, row in self.found.items() if row is not None]


def missing_rights(connection: Connection) -> list[MissingRight]:
    """Every right perfplat needs that the connection's role lacks, with the statement that gives it."""
    if connection.dialect.name != "postgresql":
        return []  # SQLite has no roles
    quote = connection.dialect.identifier_preparer.quote
    role, schema = connection.execute(text("SELECT current_user, current_schema()")).one()
    if schema is None:
        return [
            MissingRight(
                "USAGE and CREATE on a schema in its search_path",
                f"GRANT USAGE, CREATE ON SCHEMA public TO {quote(role)};",
            )
        ]
    found = {
        table.name: connection.execute(_TABLE, {"name": f"{quote(schema)}.{quote(table.name)}"})
        .mappings()
        .one_or_none()
        for table in metadata.sorted_tables
    }
    asking = _Role(connection, schema, quote(role), found)
    return [*_schema_rights(asking), *_ownership(asking), *_table_rights(asking), *_sequence_rights(asking)]


def _schema_rights(role: _Role) -> list[MissingRight]:
    """CREATE on the schema, when a table is still to be created."""
    absent = [name for name, row in role.found.items() if row is None]
    creatable = role.connection.execute(
        text("SELECT has_schema_privilege(:schema, 'CREATE')"), {"schema": role.schema}
    )
    if not absent or creatable.scalar_one():
        return []
    tables = "perfplat's tables" if len(absent) == len(role.found) else f"the tables {', '.join(absent)}"
    quoted = role.connection.dialect.identifier_preparer.quote(role.schema)
    return [
        MissingRight(
            f"CREATE on the schema {role.schema}, to create {tables}",
            f"GRANT CREATE ON SCHEMA {quoted} TO {role.grantee};",
        )
    ]


def _ownership(role: _Role) -> list[MissingRight]:
    """Ownership of a table an upgrade adds columns to."""
    missing = []
    for name, columns in missing_columns(role.connection, role.present).items():
        row = role.found[name]
        if row is not None and not row["owned"]:
            missing.append(
                MissingRight(
                    f"ownership of the table {role.qualified(name)} (owned by {row['owner']}), to add its "
                    f"new column{'s' if len(columns) > 1 else ''} {_listed([c.name for c in columns])} "
                    f"(or run this perfplat once as {row['owner']})",
                    f"ALTER TABLE {role.qualified(name)} OWNER TO {role.grantee};",
                )
            )
    return missing


def _table_rights(role: _Role) -> list[MissingRight]:
    """SELECT, INSERT, UPDATE and DELETE on every table, grouped by what each lacks."""
    lacking: dict[tuple[str, ...], list[str]] = {}
    for name in role.present:
        row = role.found[name] or {}
        rights = tuple(right for right in TABLE_RIGHTS if not row[right])
        if rights:
            lacking.setdefault(rights, []).append(role.qualified(name))
    return [
        MissingRight(
            f"{_listed(rights)} on {', '.join(tables)}",
            f"GRANT {', '.join(rights)} ON {', '.join(tables)} TO {role.grantee};",
        )
        for rights, tables in lacking.items()
    ]


def _sequence_rights(role: _Role) -> list[MissingRight]:
    """USAGE on the id sequences, which every insert into a table with an id draws from."""
    sequences = []
    for table in metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None or role.found.get(table.name) is None:
            continue
        arguments = {"table": role.qualified(table.name), "column": column.name}
        sequences += [
            sequence for sequence, usable in role.connection.execute(_SEQUENCE, arguments) if not usable
        ]
    if not sequences:
        return []
    return [
        MissingRight(
            f"USAGE on the sequence{'s' if len(sequences) > 1 else ''} {', '.join(sequences)}",
            f"GRANT USAGE ON SEQUENCE {', '.join(sequences)} TO {role.grantee};",
        )
    ]
