"""A loopback stand-in for BigQuery's REST API v2, answering GA4-export queries from DuckDB.

The exact completion rate is counted in GA4's BigQuery export through Google's own client,
`google.cloud.bigquery.Client`. Pointed at this server (``client_options=ClientOptions(api_endpoint=
emulator.endpoint)``, ``AnonymousCredentials()``), that client's real wire format, paging, job polling and
error mapping are exercised with no Google account, on data that is known: the embedded sample
(`sample_export`) or tables a test loads by hand.

It answers what the client sends for queries and listings (paths as the client sends them, under
``/bigquery/v2``):

- ``jobs.query`` (``POST /projects/{p}/queries``: `Client.query_and_wait`), ``jobs.insert`` + ``jobs.get``
  + ``jobs.getQueryResults`` (`Client.query(...).result()`), ``tables.list`` and ``datasets.get``;
- GoogleSQL, translated to DuckDB by sqlglot with the fix-ups GA4-export SQL needs (`translate`), named
  (``@name``) or positional query parameters bound as DuckDB parameters, never spliced into the SQL;
- wildcard tables (``dataset.events_*`` with ``_TABLE_SUFFIX``), pruned like BigQuery's by constant
  ``_TABLE_SUFFIX`` conditions, which also decides the bytes a query is charged for;
- ``totalBytesProcessed`` (BigQuery's logical sizes of the columns read from the tables read) and
  ``totalBytesBilled`` (rounded up to a whole MB, at least 10 MB), refused past ``maximumBytesBilled`` as
  BigQuery does (``bytesBilledLimitExceeded``);
- datasets with a location: a job whose location differs does not find them (404 ``notFound``), as in
  BigQuery; BigQuery's JSON errors and job ``errorResult``s, so the client raises what it raises there.

Every job is recorded (`jobs`) with its SQL, parameters, labels, location and byte limit, so tests can say
how perfplat queries, not only what it gets back. `answer_otherwise` is where a subclass answers a request
its own way (the tests' fault injection lives in ``perfplat_assets_tests.support``, never here).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from perfplat_assets.common.months import Month, last_closed_month, months_between
from perfplat_sample.loopback import LoopbackServer, QuietHandler
from perfplat_sample.sample_export import LazyExportTables

logger = logging.getLogger(__name__)

# The export's columns perfplat reads, as DuckDB types (nested: a dict is a STRUCT, a one-item list a LIST).
EXPORT_SCHEMA: Mapping[str, Any] = {
    "event_date": "VARCHAR",
    "event_timestamp": "BIGINT",
    "event_name": "VARCHAR",
    "user_pseudo_id": "VARCHAR",
    "event_params": [
        {
            "key": "VARCHAR",
            "value": {
                "string_value": "VARCHAR",
                "int_value": "BIGINT",
                "float_value": "DOUBLE",
                "double_value": "DOUBLE",
            },
        }
    ],
}

DEFAULT_LOCATION = "US"
SAMPLE_PROJECT = "perfplat-sample"
SAMPLE_DATASET = "analytics_0"
MB = 1 << 20
MIN_BYTES_BILLED = 10 * MB
DEFAULT_PAGE_ROWS = 50_000
DEFAULT_PAGE_TABLES = 50

TableRows = Sequence[Mapping[str, Any]]
# (project, dataset) -> its tables' rows by name (a lazy mapping's rows are read only when queried), or
# None: no such dataset.
TableProvider = Callable[[str, str], Mapping[str, TableRows] | None]
# An answer in place of BigQuery's: an HTTP status and a JSON body (a dict) or any text.
Answer = tuple[int, dict[str, Any] | str]

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_API = r"^(?:/bigquery/v2)?/projects/(?P<project>[^/]+)"
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(_API + r"/queries$"), "_jobs_query"),
    ("POST", re.compile(_API + r"/jobs$"), "_jobs_insert"),
    ("GET", re.compile(_API + r"/jobs/(?P<job>[^/]+)$"), "_jobs_get"),
    ("GET", re.compile(_API + r"/queries/(?P<job>[^/]+)$"), "_get_query_results"),
    ("GET", re.compile(_API + r"/datasets/(?P<dataset>[^/]+)/tables$"), "_tables_list"),
    ("GET", re.compile(_API + r"/datasets/(?P<dataset>[^/]+)$"), "_datasets_get"),
)


class BigQueryError(Exception):
    """A refusal as BigQuery words it: HTTP status, `reason` (the client maps it) and message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message

    def error_proto(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "domain": "global"}


def error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    """BigQuery's JSON error, which `google.api_core.exceptions.from_http_response` decodes."""
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


def _not_found(message: str) -> BigQueryError:
    return BigQueryError(404, "notFound", f"Not found: {message}")


def _invalid_query(message: str) -> BigQueryError:
    return BigQueryError(400, "invalidQuery", message)


@dataclass(frozen=True)
class RequestInfo:
    """One request as `answer_otherwise` sees it: method, path (no query string), query, JSON body."""

    method: str
    path: str
    query: Mapping[str, str]
    body: Mapping[str, Any] | None


@dataclass(frozen=True)
class QueryParameter:
    """A query parameter as bound: `name` (None when positional), BigQuery type, Python value."""

    name: str | None
    type: str
    value: Any


@dataclass(frozen=True)
class RecordedJob:
    """A query job the emulator ran (or refused), as a test asserts on it."""

    job_id: str
    project: str
    location: str
    method: str  # "jobs.query" or "jobs.insert"
    query: str
    parameters: tuple[QueryParameter, ...]
    labels: Mapping[str, str]
    maximum_bytes_billed: int | None
    total_bytes_processed: int = 0
    total_bytes_billed: int = 0
    error_reason: str | None = None
    error_message: str | None = None
    duckdb_sql: str | None = None

    @property
    def parameter_values(self) -> dict[str, Any]:
        """Named parameters' values by name (positional ones by position, from 1)."""
        return {param.name or str(number): param.value for number, param in enumerate(self.parameters, 1)}


# --- query parameters ------------------------------------------------------------------------------------


def _scalar(kind: str, text: str | None) -> Any:
    """A parameter's API value as the Python value DuckDB binds (TIMESTAMP: aware UTC -> TIMESTAMPTZ)."""
    if text is None:
        return None
    if kind in {"INT64", "INTEGER"}:
        return int(text)
    if kind in {"FLOAT64", "FLOAT"}:
        return float(text)
    if kind in {"NUMERIC", "BIGNUMERIC"}:
        return Decimal(text)
    if kind in {"BOOL", "BOOLEAN"}:
        return text.lower() == "true"
    if kind == "DATE":
        return date.fromisoformat(text)
    if kind == "DATETIME":
        return datetime.fromisoformat(text.replace(" ", "T"))
    if kind == "TIMESTAMP":
        moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    if kind == "STRING":
        return text
    raise BigQueryError(
        400, "invalid", f"Query parameters of type {kind} are not supported by this emulator."
    )


def _parameter(api: Mapping[str, Any]) -> QueryParameter:
    kind = api.get("parameterType", {}).get("type", "")
    value = api.get("parameterValue", {})
    try:
        if kind == "ARRAY":
            item = api["parameterType"]["arrayType"]["type"]
            items = [_scalar(item, entry.get("value")) for entry in value.get("arrayValues", [])]
            return QueryParameter(api.get("name"), f"ARRAY<{item}>", items)
        return QueryParameter(api.get("name"), kind, _scalar(kind, value.get("value")))
    except (KeyError, ValueError, ArithmeticError) as error:
        raise BigQueryError(
            400, "invalid", f"Invalid query parameter {api.get('name')!r}: {error}"
        ) from error


# --- GoogleSQL -> DuckDB ---------------------------------------------------------------------------------


@dataclass
class _TableData:
    """A loaded table: DuckDB's name for it, its columns' logical bytes (BigQuery's sizes)."""

    duck_name: str
    column_bytes: dict[str, int]
    rows: int


@dataclass
class _Dataset:
    location: str
    tables: dict[str, _TableData] = field(default_factory=dict)
    pending: Mapping[str, TableRows] = field(default_factory=dict)  # a provider's tables, loaded when read

    def names(self) -> list[str]:
        return sorted(set(self.tables) | set(self.pending))


def _parse(sql: str) -> exp.Query:
    """One GoogleSQL query (SELECT, WITH, set operations); anything else is refused as BigQuery would not
    run it here (DDL, DML, scripts)."""
    try:
        statements = [statement for statement in sqlglot.parse(sql, read="bigquery") if statement]
    except SqlglotError as error:
        raise _invalid_query(f"Syntax error: {error}") from error
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise _invalid_query("This emulator answers one SELECT statement (no DDL, DML or scripts).")
    if any(not isinstance(table.this, exp.Identifier) for table in statements[0].find_all(exp.Table)):
        raise _invalid_query("Table-valued functions are not supported by this emulator.")
    return statements[0]


def _table_references(tree: exp.Query) -> list[exp.Table]:
    """Tables read from storage: every table name that is not a CTE's."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return [
        table
        for table in tree.find_all(exp.Table)
        if isinstance(table.this, exp.Identifier)
        and not (not table.args.get("db") and table.name.lower() in ctes)
    ]


def _constant(node: exp.Expression, parameters: Mapping[str, Any]) -> str | None:
    """A string literal's or a bound STRING parameter's value; None for anything else."""
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    if isinstance(node, exp.Parameter | exp.Placeholder):
        value = parameters.get(node.name)
        return value if isinstance(value, str) else None
    return None


_FLIPPED = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ}
_COMPARE: dict[type[exp.Expression], Callable[[str, str], bool]] = {
    exp.GT: lambda suffix, bound: suffix > bound,
    exp.GTE: lambda suffix, bound: suffix >= bound,
    exp.LT: lambda suffix, bound: suffix < bound,
    exp.LTE: lambda suffix, bound: suffix <= bound,
    exp.EQ: lambda suffix, bound: suffix == bound,
}


def _is_suffix(node: exp.Expression, alias: str) -> bool:
    return (
        isinstance(node, exp.Column)
        and node.name.lower() == "_table_suffix"
        and node.table.lower() in {"", alias.lower()}
    )


def _suffix_test(condition: exp.Expression, alias: str, params: Mapping[str, Any]) -> Callable[[str], bool]:
    """What one WHERE conjunct says about `_TABLE_SUFFIX` with constants (everything if it says nothing
    this can evaluate): BigQuery prunes a wildcard's tables the same way, and bills only those read."""
    if isinstance(condition, exp.Between) and _is_suffix(condition.this, alias):
        low, high = _constant(condition.args["low"], params), _constant(condition.args["high"], params)
        if low is not None and high is not None:
            return lambda suffix: low <= suffix <= high
    if isinstance(condition, exp.In) and _is_suffix(condition.this, alias) and condition.expressions:
        values = [_constant(value, params) for value in condition.expressions]
        if all(value is not None for value in values):
            return lambda suffix: suffix in values
    kind = type(condition)
    if kind in _COMPARE:
        left, right = condition.this, condition.expression
        if _is_suffix(right, alias) and not _is_suffix(left, alias):
            left, right, kind = right, left, _FLIPPED[kind]
        bound = _constant(right, params) if _is_suffix(left, alias) else None
        if bound is not None:
            compare = _COMPARE[kind]
            return lambda suffix: compare(suffix, bound)
    return lambda suffix: True


def _suffix_filter(table: exp.Table, params: Mapping[str, Any]) -> Callable[[str], bool]:
    """The `_TABLE_SUFFIX`es the query can read from a wildcard: its SELECT's WHERE conjuncts, all of
    which every row it returns satisfies."""
    select = table.find_ancestor(exp.Select)
    where = select.args.get("where") if select is not None else None
    if where is None:
        return lambda suffix: True
    condition = where.this.unnest()
    conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
    alias = table.alias_or_name
    tests = [_suffix_test(conjunct.unnest(), alias, params) for conjunct in conjuncts]
    return lambda suffix: all(test(suffix) for test in tests)


def _unnamed_columns(tree: exp.Query) -> None:
    """Name computed columns f0_, f1_, ... as BigQuery does (DuckDB would name them by their text)."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    number = 0
    for projection in list(select.expressions):
        if not isinstance(projection, exp.Alias | exp.Column | exp.Star):
            projection.replace(exp.alias_(projection.copy(), f"f{number}_"))
            number += 1


def _fix_semantics(tree: exp.Query) -> None:
    """Where DuckDB means something else by sqlglot's translation, say what BigQuery means.

    - TIMESTAMP_MICROS/MILLIS/SECONDS are instants: TIMESTAMPTZ (sqlglot gives DuckDB a naive TIMESTAMP,
      which `AT TIME ZONE` and TIMESTAMP_TRUNC(..., zone) would read as local time).
    - FORMAT_TIMESTAMP(fmt, ts, zone): sqlglot drops the zone; format the zone's wall-clock time instead.
    - COUNTIF is 0 when no condition is true, NULL-only or no rows at all; DuckDB's COUNT_IF is NULL.
    - UNNEST(array) in FROM without an alias exposes a struct's fields as columns (`key`, `value`);
      DuckDB needs the struct unnested too, in a subquery, or a correlated one fails to bind.
    """
    for node in list(tree.find_all(exp.UnixToTime)):
        node.replace(exp.cast(node.copy(), exp.DataType.build("TIMESTAMPTZ")))
    for node in list(tree.find_all(exp.TimeToStr)):
        zone = node.args.get("zone")
        if zone is not None:
            instant = exp.cast(node.this.copy(), exp.DataType.build("TIMESTAMPTZ"))
            node.set("this", exp.Anonymous(this="TIMEZONE", expressions=[zone.copy(), instant]))
            node.set("zone", None)
    for node in list(tree.find_all(exp.CountIf)):
        condition = node.this.copy()
        node.replace(exp.Count(this=exp.Case(ifs=[exp.If(this=condition, true=exp.Literal.number(1))])))
    for node in list(tree.find_all(exp.Unnest)):
        bare = not node.args.get("alias") and not node.args.get("offset") and len(node.expressions) == 1
        if bare and isinstance(node.parent, exp.From | exp.Join):
            depth = exp.PropertyEQ(this=exp.to_identifier("max_depth"), expression=exp.Literal.number(2))
            unnest = exp.Explode(this=node.expressions[0].copy(), expressions=[depth])
            node.replace(exp.Subquery(this=exp.select(unnest)))


def _wildcard_relation(tables: Sequence[tuple[str, str]], schema_table: str) -> exp.Query:
    """The wildcard as DuckDB reads it: its tables' rows, each with its `_TABLE_SUFFIX`; no rows (with
    `schema_table`'s columns) when the query's conditions leave no table to read."""
    if not tables:
        suffix = exp.alias_(exp.Literal.string(""), "_TABLE_SUFFIX")
        return exp.select("*", suffix).from_(exp.to_table(schema_table, quoted=True)).where(exp.false())
    selects = [
        exp.select("*", exp.alias_(exp.Literal.string(suffix), "_TABLE_SUFFIX")).from_(
            exp.to_table(name, quoted=True)
        )
        for name, suffix in tables
    ]
    relation: exp.Query = selects[0]
    for select in selects[1:]:  # built in place: sqlglot's `exp.union` copies its left side each time
        relation = exp.Union(this=relation, expression=select, distinct=False, by_name=True)
    return relation


@dataclass(frozen=True)
class _Relation:
    """What a table reference reads in DuckDB: its tables (with suffixes), or for a wildcard that reads
    none, a table whose columns it has."""

    tables: tuple[tuple[str, str], ...]
    wildcard: bool
    schema_table: str


def to_duckdb(tree: exp.Query, relations: Mapping[int, _Relation]) -> str:
    """The parsed GoogleSQL `tree` as DuckDB SQL; `relations` says what each table reference (by `id`)
    reads. The tree is changed in place."""
    for table in _table_references(tree):
        relation = relations[id(table)]
        alias = (table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))).copy()
        if relation.wildcard:
            table.replace(
                exp.Subquery(this=_wildcard_relation(relation.tables, relation.schema_table), alias=alias)
            )
        else:
            table.replace(exp.Table(this=exp.to_identifier(relation.tables[0][0], quoted=True), alias=alias))
    _fix_semantics(tree)
    _unnamed_columns(tree)
    return tree.sql(dialect="duckdb")


# --- storage ---------------------------------------------------------------------------------------------


def _duck_type(spec: Any) -> str:
    """A schema entry as a DuckDB type: a name, a dict (STRUCT) or a one-item list (LIST)."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return f"{_duck_type(spec[0])}[]"
    return "STRUCT(" + ", ".join(f'"{name}" {_duck_type(child)}' for name, child in spec.items()) + ")"


def _json_structure(spec: Any) -> Any:
    """The schema as `from_json`'s structure argument (the same nesting, DuckDB type names as leaves)."""
    if isinstance(spec, list):
        return [_json_structure(spec[0])]
    if isinstance(spec, Mapping):
        return {name: _json_structure(child) for name, child in spec.items()}
    return spec


_EIGHT_BYTES = {"BIGINT", "INTEGER", "DOUBLE", "FLOAT", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "DECIMAL"}


def _size_sql(value: str, spec: Any, depth: int = 0) -> str:
    """DuckDB SQL for BigQuery's logical size of `value`: STRING 2 + UTF-8 bytes, INT64/FLOAT64/DATE/
    TIMESTAMP 8, BOOL 1, a STRUCT its fields, an ARRAY its elements, NULL 0."""
    if isinstance(spec, list):
        item = f"item{depth}"
        element = _size_sql(item, spec[0], depth + 1)
        return f"COALESCE(list_sum(list_transform({value}, lambda {item}: {element})), 0)"
    if isinstance(spec, Mapping):
        fields = [
            _size_sql(f"struct_extract({value}, '{name}')", child, depth) for name, child in spec.items()
        ]
        return " + ".join(fields) or "0"
    if spec.upper() in {"VARCHAR", "TEXT", "STRING", "BLOB"}:
        return f"COALESCE(2 + strlen({value}), 0)"
    size = 1 if spec.upper() in {"BOOLEAN", "BOOL"} else 8
    return f"CASE WHEN {value} IS NULL THEN 0 ELSE {size} END"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a value this emulator loads")


# --- results ---------------------------------------------------------------------------------------------

_BIGQUERY_TYPES = {
    "boolean": "BOOLEAN",
    "float": "FLOAT",
    "double": "FLOAT",
    "decimal": "FLOAT",
    "varchar": "STRING",
    "blob": "BYTES",
    "date": "DATE",
    "time": "TIME",
    "timestamp with time zone": "TIMESTAMP",
    "timestamp": "DATETIME",
    "timestamp_s": "DATETIME",
    "timestamp_ms": "DATETIME",
    "timestamp_ns": "DATETIME",
    "null": "INTEGER",
}
_INTEGERS = {"tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint", "uinteger"}


def _field(name: str, duck: duckdb.DuckDBPyType, mode: str = "NULLABLE") -> dict[str, Any]:
    """A result column's BigQuery schema field, from its DuckDB type (TIMESTAMPTZ is BigQuery's
    TIMESTAMP, a naive TIMESTAMP its DATETIME, DECIMAL its FLOAT64 as `1.5` is in GoogleSQL)."""
    kind = duck.id
    if kind == "list":
        child = duck.children[0][1]
        if child.id == "list":
            raise _invalid_query(f"Column {name} is an array of arrays, which BigQuery cannot return.")
        return _field(name, child, "REPEATED")
    if kind == "struct":
        fields = [_field(child_name, child) for child_name, child in duck.children]
        return {"name": name, "type": "RECORD", "mode": mode, "fields": fields}
    if kind in _INTEGERS or kind == "ubigint":
        return {"name": name, "type": "INTEGER", "mode": mode}
    return {"name": name, "type": _BIGQUERY_TYPES.get(kind, "STRING"), "mode": mode}


def _scalar_cell(value: Any, kind: str, int64_timestamp: bool) -> str:
    """One value in BigQuery's JSON row format: always a string."""
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if kind == "FLOAT":
        number = float(value)
        if math.isnan(number):
            return "NaN"
        return ("Infinity" if number > 0 else "-Infinity") if math.isinf(number) else repr(number)
    if kind == "TIMESTAMP":
        micros = (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        return str(micros) if int64_timestamp else repr(micros / 1_000_000)
    if kind in {"DATE", "DATETIME", "TIME"}:
        return value.isoformat()
    if kind == "BYTES":
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _cell(value: Any, schema: Mapping[str, Any], int64_timestamp: bool, repeated: bool = True) -> Any:
    if repeated and schema["mode"] == "REPEATED":
        items = value or []
        return [{"v": _cell(item, schema, int64_timestamp, repeated=False)} for item in items]
    if value is None:
        return None
    if schema["type"] == "RECORD":
        parts = [value.get(child["name"]) for child in schema["fields"]]
        return {
            "f": [
                {"v": _cell(part, child, int64_timestamp)}
                for part, child in zip(parts, schema["fields"], strict=True)
            ]
        }
    return _scalar_cell(value, schema["type"], int64_timestamp)


def _rows_json(
    rows: Sequence[tuple[Any, ...]], fields: Sequence[Mapping[str, Any]], int64_ts: bool
) -> list[Any]:
    return [
        {"f": [{"v": _cell(value, spec, int64_ts)} for value, spec in zip(row, fields, strict=True)]}
        for row in rows
    ]


def _billed(processed: int, tables_read: int) -> int:
    """BigQuery's bytes billed: processed bytes rounded up to a whole MB, at least 10 MB when a table's
    columns are read (a query that reads none, `SELECT 1` or a `COUNT(*)`, bills nothing)."""
    if tables_read == 0 or processed == 0:
        return 0
    return max(MIN_BYTES_BILLED, -(-processed // MB) * MB)


def _referenced_columns(tree: exp.Query) -> set[str] | None:
    """Names a query may read columns by (None: every column, for a `*`), so the bytes processed count
    only the columns read, as BigQuery's do. Over-approximates: any identifier in a column path counts."""
    for select in tree.find_all(exp.Select):
        for projection in select.expressions:
            if isinstance(projection, exp.Star) or isinstance(projection.this, exp.Star):
                return None
    return {part.name.lower() for column in tree.find_all(exp.Column) for part in column.parts}


# --- jobs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _QueryConfig:
    """A query as jobs.query's body or jobs.insert's `configuration.query` asks for it."""

    sql: str
    parameters: tuple[QueryParameter, ...]
    positional: bool
    labels: Mapping[str, str]
    location: str | None
    maximum_bytes_billed: int | None
    default_dataset: tuple[str, str] | None
    dry_run: bool
    legacy_sql: bool

    @classmethod
    def of(cls, query: Mapping[str, Any], outer: Mapping[str, Any], location: str | None) -> _QueryConfig:
        """From the query's fields and the enclosing request's (labels, dryRun): for jobs.query, one dict."""
        default = query.get("defaultDataset") or {}
        limit = query.get("maximumBytesBilled")
        return cls(
            sql=str(query.get("query", "")),
            parameters=tuple(_parameter(api) for api in query.get("queryParameters", [])),
            positional=query.get("parameterMode", "NAMED").upper() == "POSITIONAL",
            labels=dict(outer.get("labels") or {}),
            location=location,
            maximum_bytes_billed=int(limit) if limit not in (None, "") else None,
            default_dataset=(default["projectId"], default["datasetId"]) if default else None,
            dry_run=bool(outer.get("dryRun")),
            legacy_sql=bool(query.get("useLegacySql", True)),
        )


@dataclass
class _Job:
    """A query job: what was asked, how it ended, and its rows for getQueryResults' pages."""

    job_id: str
    project: str
    method: str
    config: _QueryConfig
    location: str = DEFAULT_LOCATION
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    duckdb_sql: str | None = None
    processed: int = 0
    billed: int = 0
    fields: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    error: BigQueryError | None = None

    def record(self) -> RecordedJob:
        return RecordedJob(
            job_id=self.job_id,
            project=self.project,
            location=self.location,
            method=self.method,
            query=self.config.sql,
            parameters=self.config.parameters,
            labels=dict(self.config.labels),
            maximum_bytes_billed=self.config.maximum_bytes_billed,
            total_bytes_processed=self.processed,
            total_bytes_billed=self.billed,
            error_reason=self.error.reason if self.error else None,
            error_message=self.error.message if self.error else None,
            duckdb_sql=self.duckdb_sql,
        )

    def reference(self) -> dict[str, str]:
        return {"projectId": self.project, "jobId": self.job_id, "location": self.location}

    def resource(self, configuration: Mapping[str, Any]) -> dict[str, Any]:
        """The job as jobs.insert and jobs.get return it: DONE, with its error if it failed."""
        status: dict[str, Any] = {"state": "DONE"}
        if self.error is not None:
            status["errorResult"] = self.error.error_proto()
            status["errors"] = [self.error.error_proto()]
        statistics = {"totalBytesProcessed": str(self.processed), "totalBytesBilled": str(self.billed)}
        return {
            "kind": "bigquery#job",
            "id": f"{self.project}:{self.location}.{self.job_id}",
            "jobReference": self.reference(),
            "configuration": {**configuration, "jobType": "QUERY"},
            "status": status,
            "statistics": {
                "creationTime": str(self.created_ms),
                "startTime": str(self.created_ms),
                "endTime": str(self.created_ms),
                "totalBytesProcessed": str(self.processed),
                "query": {**statistics, "cacheHit": False, "statementType": "SELECT"},
            },
            "user_email": "anonymous@perfplat.invalid",
        }

    def results(self, start: int, max_results: int, int64_timestamp: bool) -> dict[str, Any]:
        """A page of the results, as jobs.query and getQueryResults return them."""
        page = self.rows[start : start + max_results]
        answer: dict[str, Any] = {
            "jobReference": self.reference(),
            "jobComplete": True,
            "schema": {"fields": self.fields},
            "totalRows": str(len(self.rows)),
            "totalBytesProcessed": str(self.processed),
            "totalBytesBilled": str(self.billed),
            "cacheHit": False,
        }
        if max_results > 0:
            answer["rows"] = _rows_json(page, self.fields, int64_timestamp)
        if start + len(page) < len(self.rows) and max_results > 0:
            answer["pageToken"] = str(start + len(page))
        return answer


def _page_start(query: Mapping[str, str]) -> int:
    token = query.get("pageToken") or query.get("startIndex") or "0"
    if not token.isdigit():
        raise BigQueryError(400, "invalid", f"Invalid page token {token!r}.")
    return int(token)


# --- the server ------------------------------------------------------------------------------------------


class _Handler(QuietHandler):
    """Hands every request to the emulator and writes its JSON answer."""

    server: _Server
    server_version = "BigQueryEmulator/1"

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self._send(400, error_body(400, "parseError", f"Invalid JSON payload received. {error}"))
            return
        request = RequestInfo(self.command, parts.path, query, body if isinstance(body, dict) else None)
        self._send(*self.server.emulator.handle(request))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _send(self, status: int, payload: dict[str, Any] | str) -> None:
        self.write_answer(status, payload if isinstance(payload, str) else json.dumps(payload))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: BigQueryEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


class BigQueryEmulator(LoopbackServer):
    """BigQuery's REST API v2 on loopback, over an in-memory DuckDB holding GA4-export tables.

    Use as a context manager (or `start()`/`stop()`), then give the real client `endpoint` as its
    `api_endpoint`. Tables come from `load_table` (which creates their dataset) and, lazily, from
    `tables_for(project, dataset)`, asked once per dataset the first time one is named; a dataset's rows are
    loaded into DuckDB only when a query reads that table. Datasets are in `location` unless created in
    another (`create_dataset`).
    """

    def __init__(
        self,
        tables_for: TableProvider | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        location: str = DEFAULT_LOCATION,
        page_rows: int = DEFAULT_PAGE_ROWS,
    ) -> None:
        self.tables_for = tables_for
        super().__init__(host, port)
        self.location = location  # of datasets created without one, `tables_for`'s included
        self.page_rows = page_rows  # result rows per page when the client sets no maxResults
        self.jobs: list[RecordedJob] = []
        self.requests: list[RequestInfo] = []
        self._datasets: dict[tuple[str, str], _Dataset] = {}
        self._asked: set[tuple[str, str]] = set()
        self._jobs: dict[tuple[str, str], tuple[_Job, dict[str, Any]]] = {}
        self._lock = threading.RLock()
        self._tables_loaded = 0
        # No file system, network or extension loading: the SQL comes from whoever reaches the port.
        self._db = duckdb.connect(
            config={
                "enable_external_access": False,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            }
        )
        self._db.execute("SET TimeZone = 'UTC'").fetchall()

    # --- data ----------------------------------------------------------------------------------------

    def create_dataset(self, project: str, dataset: str, location: str | None = None) -> None:
        """Declare a dataset (empty until tables are loaded), in `location` or the emulator's."""
        with self._lock:
            self._asked.add((project, dataset))
            existing = self._datasets.get((project, dataset))
            if existing is None:
                self._datasets[(project, dataset)] = _Dataset(location or self.location)
            elif location is not None:
                existing.location = location

    def load_table(
        self,
        project: str,
        dataset: str,
        table: str,
        rows: TableRows,
        schema: Mapping[str, Any] = EXPORT_SCHEMA,
    ) -> None:
        """Load (or replace) a table of `rows` (dicts by column; a missing key is NULL) with `schema`
        (DuckDB types, nested as `EXPORT_SCHEMA`); its dataset is created if need be."""
        if "*" in table:
            raise ValueError(f"A table name cannot contain '*': {table!r}")
        unknown = {key for row in rows for key in row} - set(schema)
        if unknown:
            raise ValueError(f"Columns {sorted(unknown)} are not in the table's schema {list(schema)}")
        with self._lock:
            if (project, dataset) not in self._datasets:
                self.create_dataset(project, dataset)
            self._datasets[(project, dataset)].tables[table] = self._load(rows, schema)

    def _load(self, rows: TableRows, schema: Mapping[str, Any]) -> _TableData:
        """Rows into a new DuckDB table (through `from_json`: no files), and its columns' sizes."""
        self._tables_loaded += 1
        name = f"bq_table_{self._tables_loaded}"
        columns = ", ".join(f'"{column}" {_duck_type(spec)}' for column, spec in schema.items())
        self._db.execute(f'CREATE OR REPLACE TABLE "{name}" ({columns})').fetchall()
        if rows:
            records = [{column: row.get(column) for column in schema} for row in rows]
            structure = json.dumps([_json_structure(schema)])
            text = json.dumps(records, default=_json_default)
            self._db.execute(
                f'INSERT INTO "{name}" SELECT unnest(from_json($rows, $structure), max_depth := 2)',
                {"rows": text, "structure": structure},
            ).fetchall()
        sizes = ", ".join(
            f"COALESCE(SUM({_size_sql(_quoted(column), spec)}), 0)" for column, spec in schema.items()
        )
        [totals] = self._db.execute(f'SELECT {sizes} FROM "{name}"').fetchall()
        return _TableData(
            name, {column.lower(): int(size) for column, size in zip(schema, totals, strict=True)}, len(rows)
        )

    @property
    def datasets(self) -> dict[tuple[str, str], str]:
        """The datasets known so far, (project, dataset) -> location (`tables_for`'s once named)."""
        with self._lock:
            return {key: data.location for key, data in self._datasets.items()}

    def _dataset(self, project: str, dataset: str) -> _Dataset | None:
        """The dataset, asking `tables_for` the first time it is named."""
        key = (project, dataset)
        if key not in self._asked:
            self._asked.add(key)
            tables = self.tables_for(project, dataset) if self.tables_for is not None else None
            if tables is not None:
                self._datasets[key] = _Dataset(self.location, pending=tables)
        return self._datasets.get(key)

    def _table(self, data: _Dataset, name: str) -> _TableData:
        """A table's DuckDB data, loading a provider's rows the first time it is read."""
        if name not in data.tables:
            data.tables[name] = self._load(data.pending[name], EXPORT_SCHEMA)
        return data.tables[name]

    # --- serving -------------------------------------------------------------------------------------

    title = "BigQuery emulator"

    def _http_server(self) -> _Server:
        return _Server((self.host, self.port), self)

    def answer_otherwise(self, request: RequestInfo) -> Answer | None:
        """A subclass's answer to this request in place of BigQuery's (an HTTP status and a JSON body,
        `error_body` for an error); None answers as BigQuery would. Called for every request after it is
        recorded in `requests`. May block, waiting on `stopping`."""
        return None

    def handle(self, request: RequestInfo) -> Answer:
        """One request: recorded, offered to `answer_otherwise`, then routed to the API method."""
        with self._lock:
            self.requests.append(request)
        answer = self.answer_otherwise(request)
        if answer is not None:
            return answer
        for method, pattern, name in _ROUTES:
            match = pattern.match(request.path)
            if match and method == request.method:
                try:
                    return 200, getattr(self, name)(request, **match.groupdict())
                except BigQueryError as error:
                    return error.status, error_body(error.status, error.reason, error.message)
                except Exception:
                    logger.exception("BigQuery emulator failed to answer %s %s", request.method, request.path)
                    return 500, error_body(500, "internalError", "An internal error occurred (emulator).")
        message = f"This emulator has no method at {request.method} {request.path}."
        return 404, error_body(404, "notFound", message)

    # --- queries -----------------------------------------------------------------------------------

    def _run(self, job: _Job, configuration: Mapping[str, Any]) -> _Job:
        """Run the job's query to its end (the job is DONE before the client first asks) and record it;
        a refusal is the job's error, as BigQuery's failed jobs carry theirs."""
        try:
            with self._lock:
                self._execute(job)
        except BigQueryError as error:
            job.error = error
        except duckdb.Error as error:
            job.error = _invalid_query(f"{type(error).__name__}: {error}")
        except Exception:
            logger.exception("BigQuery emulator failed to run %s", job.config.sql)
            job.error = BigQueryError(500, "internalError", "An internal error occurred (emulator).")
        if not job.config.dry_run:
            with self._lock:
                self._jobs[(job.project, job.job_id)] = (job, dict(configuration))
                self.jobs.append(job.record())
        return job

    def _execute(self, job: _Job) -> None:
        """Resolve the tables in the job's location, charge the bytes, refuse past the limit, run."""
        config = job.config
        if config.legacy_sql:
            raise _invalid_query("This emulator answers GoogleSQL only: set useLegacySql to false.")
        tree = _parse(config.sql)
        bound = _bind(tree, config)
        named = {param.name: param.value for param in config.parameters if param.name}
        references = [(table, *self._name(table, job.project, config)) for table in _table_references(tree)]
        job.location = config.location or self._location_of(references)
        relations, read = self._relations(references, job.location, named)
        columns = _referenced_columns(tree)
        job.processed = sum(
            size
            for data in read
            for column, size in data.column_bytes.items()
            if columns is None or column in columns
        )
        job.billed = _billed(job.processed, len(read))
        limit = config.maximum_bytes_billed
        if limit is not None and job.billed > limit:
            message = f"Query exceeded limit for bytes billed: {limit}. {job.billed} or higher required."
            raise BigQueryError(400, "bytesBilledLimitExceeded", message)
        job.duckdb_sql = to_duckdb(tree, relations)
        if config.dry_run:
            return
        result = self._db.sql(job.duckdb_sql, params=bound)
        job.fields = [_field(name, kind) for name, kind in zip(result.columns, result.types, strict=True)]
        job.rows = result.fetchall()

    @staticmethod
    def _name(table: exp.Table, project: str, config: _QueryConfig) -> tuple[str, str, str]:
        """(project, dataset, table) of a reference: unqualified parts from the default dataset, else the
        job's project, as BigQuery resolves them."""
        default = config.default_dataset
        dataset = table.db or (default[1] if default else "")
        if not dataset:
            message = f'Table "{table.name}" must be qualified with a dataset (e.g. dataset.table).'
            raise BigQueryError(400, "invalid", message)
        if table.catalog:
            return table.catalog, dataset, table.name
        return (default[0] if default and not table.db else project), dataset, table.name

    def _location_of(self, references: Sequence[tuple[exp.Table, str, str, str]]) -> str:
        """Where a job with no location runs: where the first dataset it reads is, as BigQuery infers."""
        for _, project, dataset, _ in references:
            data = self._dataset(project, dataset)
            if data is not None:
                return data.location
        return self.location

    def _relations(
        self,
        references: Sequence[tuple[exp.Table, str, str, str]],
        location: str,
        named: Mapping[str, Any],
    ) -> tuple[dict[int, _Relation], list[_TableData]]:
        """What each reference reads in DuckDB, and the tables read (each once), loading them if need be."""
        relations: dict[int, _Relation] = {}
        read: dict[str, _TableData] = {}
        for table, project, dataset, name in references:
            data = self._dataset(project, dataset)
            if data is None or data.location.lower() != location.lower():
                raise _not_found(f"Dataset {project}:{dataset} was not found in location {location}")
            prefix = name[:-1] if name.endswith("*") else None
            names = (
                [each for each in data.names() if each.startswith(prefix)] if prefix is not None else [name]
            )
            if not names or (prefix is None and name not in data.names()):
                raise _not_found(f"Table {project}:{dataset}.{name} was not found in location {location}")
            keep = _suffix_filter(table, named) if prefix is not None else (lambda suffix: True)
            suffixes = {each: each[len(prefix or name) :] for each in names}
            chosen = [(self._table(data, each), suffixes[each]) for each in names if keep(suffixes[each])]
            schema = chosen[0][0] if chosen else self._table(data, names[0])
            tables = tuple((loaded.duck_name, suffix) for loaded, suffix in chosen)
            relations[id(table)] = _Relation(tables, prefix is not None, schema.duck_name)
            read.update((loaded.duck_name, loaded) for loaded, _ in chosen)
        return relations, list(read.values())

    # --- API methods ---------------------------------------------------------------------------------

    def _jobs_query(self, request: RequestInfo, project: str) -> dict[str, Any]:
        body = request.body or {}
        config = _QueryConfig.of(body, body, body.get("location"))
        job = self._run(_Job(f"job_{uuid.uuid4().hex}", project, "jobs.query", config), {"query": body})
        if job.error is not None:
            raise job.error
        max_results = int(body.get("maxResults", self.page_rows))
        use_int64 = bool((body.get("formatOptions") or {}).get("useInt64Timestamp"))
        return {"kind": "bigquery#queryResponse", **job.results(0, max_results, use_int64)}

    def _jobs_insert(self, request: RequestInfo, project: str) -> dict[str, Any]:
        body = request.body or {}
        configuration = body.get("configuration") or {}
        if "query" not in configuration:
            raise BigQueryError(400, "invalid", "This emulator runs query jobs only (configuration.query).")
        reference = body.get("jobReference") or {}
        job_id = reference.get("jobId") or f"job_{uuid.uuid4().hex}"
        with self._lock:
            if (project, job_id) in self._jobs:
                location = self._jobs[(project, job_id)][0].location
                raise BigQueryError(409, "duplicate", f"Already Exists: Job {project}:{location}.{job_id}")
        config = _QueryConfig.of(configuration["query"], configuration, reference.get("location"))
        job = self._run(_Job(job_id, project, "jobs.insert", config), configuration)
        return job.resource(configuration)

    def _find_job(self, request: RequestInfo, project: str, job: str) -> tuple[_Job, dict[str, Any]]:
        with self._lock:
            found = self._jobs.get((project, job))
        location = request.query.get("location")
        if found is None or (location and location.lower() != found[0].location.lower()):
            raise _not_found(f"Job {project}:{location or DEFAULT_LOCATION}.{job}")
        return found

    def _jobs_get(self, request: RequestInfo, project: str, job: str) -> dict[str, Any]:
        found, configuration = self._find_job(request, project, job)
        return found.resource(configuration)

    def _get_query_results(self, request: RequestInfo, project: str, job: str) -> dict[str, Any]:
        found, _ = self._find_job(request, project, job)
        if found.error is not None:
            raise found.error
        max_results = int(request.query.get("maxResults", self.page_rows))
        use_int64 = request.query.get("formatOptions.useInt64Timestamp", "").lower() == "true"
        page = found.results(_page_start(request.query), max_results, use_int64)
        return {"kind": "bigquery#getQueryResultsResponse", **page}

    def _tables_list(self, request: RequestInfo, project: str, dataset: str) -> dict[str, Any]:
        with self._lock:
            data = self._dataset(project, dataset)
            if data is None:
                raise _not_found(f"Dataset {project}:{dataset}")
            names = data.names()
        start = _page_start(request.query)
        page = names[start : start + int(request.query.get("maxResults", DEFAULT_PAGE_TABLES))]
        answer: dict[str, Any] = {
            "kind": "bigquery#tableList",
            "tables": [
                {
                    "kind": "bigquery#table",
                    "id": f"{project}:{dataset}.{name}",
                    "tableReference": {"projectId": project, "datasetId": dataset, "tableId": name},
                    "type": "TABLE",
                }
                for name in page
            ],
            "totalItems": len(names),
        }
        if start + len(page) < len(names):
            answer["nextPageToken"] = str(start + len(page))
        return answer

    def _datasets_get(self, request: RequestInfo, project: str, dataset: str) -> dict[str, Any]:
        with self._lock:
            data = self._dataset(project, dataset)
        if data is None:
            raise _not_found(f"Dataset {project}:{dataset}")
        return {
            "kind": "bigquery#dataset",
            "id": f"{project}:{dataset}",
            "datasetReference": {"projectId": project, "datasetId": dataset},
            "location": data.location,
        }


def _bind(tree: exp.Query, config: _QueryConfig) -> dict[str, Any] | list[Any] | None:
    """The parameters DuckDB binds: the named ones the query uses, or the positional ones in order."""
    used = {node.name for node in tree.find_all(exp.Parameter)}
    placeholders = len(list(tree.find_all(exp.Placeholder)))
    if config.positional:
        if used or placeholders != len(config.parameters):
            message = (
                f"The query has {placeholders} positional parameters; {len(config.parameters)} were given."
            )
            raise _invalid_query(message)
        return [param.value for param in config.parameters] or None
    if placeholders:
        raise _invalid_query("Positional parameters (?) need parameterMode POSITIONAL.")
    given = {param.name.lower(): param.value for param in config.parameters if param.name}
    for name in sorted(used):
        if name.lower() not in given:
            raise _invalid_query(f"Query parameter '{name}' not found")
    return {name: given[name.lower()] for name in used} or None


# --- the embedded sample ---------------------------------------------------------------------------------


def sample_tables(months: Sequence[Month]) -> TableProvider:
    """`tables_for` serving the sample export of `months` as dataset `SAMPLE_PROJECT.SAMPLE_DATASET`."""
    tables = LazyExportTables(months)

    def tables_for(project: str, dataset: str) -> Mapping[str, TableRows] | None:
        return tables if (project, dataset) == (SAMPLE_PROJECT, SAMPLE_DATASET) else None

    return tables_for


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the sample export of the last few closed months in the foreground, for the client or curl."""
    parser = argparse.ArgumentParser(description="Serve a BigQuery REST API emulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9050)
    parser.add_argument("--months", type=int, default=3, help="closed months of sample export to serve")
    parser.add_argument("--location", default="EU", help="the sample dataset's location")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    last = last_closed_month()
    first = last
    for _ in range(max(args.months, 1) - 1):
        first = first.previous()
    provider = sample_tables(months_between(first, last))
    emulator = BigQueryEmulator(provider, host=args.host, port=args.port, location=args.location)
    served = f"{SAMPLE_PROJECT}.{SAMPLE_DATASET} ({first} to {last}, {args.location})"
    emulator.serve_until_interrupted(f"BigQuery emulator serving {served}")


if __name__ == "__main__":
    main()
