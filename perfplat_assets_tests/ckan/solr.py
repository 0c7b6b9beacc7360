"""An in-memory stand-in for the Solr core that CKAN 2.11 indexes datasets into.

Solr cannot be installed here, and without it every dataset write in CKAN fails with a search-index error.
This answers what CKAN (through pysolr 3.11) asks of a core, for any core name under /solr/<core>/:

- `GET  admin/ping`, and the schema at `GET schema?wt=schema.xml` (falling back to
  `GET admin/file/?file=schema.xml`), which CKAN reads at start-up to check the version is ckan-2.11;
- `POST update[/json]`: pysolr sends added documents as a JSON array and deletes and commits as XML
  (`<delete><id>` or `<query>`, `<commit/>`); Solr's JSON command object ({"add", "delete", "commit"}) is
  accepted too. Documents are keyed by CKAN's unique key, index_id;
- `GET|POST select`: the Lucene-style queries CKAN builds (`+field:"value"`, `AND`/`OR`/`NOT`, `-x`,
  groups, `field:(a OR b)`, `*:*`, ranges, wildcards, bare words searched in every text field), with fq,
  sort, start, rows, fl and facet.field counts. It is not Solr: no analysis, scoring or stemming, so a
  query matches exactly, case-insensitively, or as words within a longer string.

Commits are immediate: what was added is searchable at once. A query it cannot parse gets HTTP 400 with a
Solr-shaped error, which CKAN reports as a search error rather than as a silently wrong result.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Document = dict[str, Any]
Params = dict[str, list[str]]

# CKAN compares the name attribute (`ckan-X.Y`) with the schema versions it supports.
SCHEMA_XML = '<?xml version="1.0" encoding="UTF-8" ?>\n<schema name="ckan-2.11" version="1.6"></schema>\n'
# Stored JSON blobs and keys: a bare word should not match every dataset through them.
NOT_TEXT_SEARCHED = frozenset(
    {"data_dict", "validated_data_dict", "index_id", "site_id", "permission_labels"}
)
ROUTE = re.compile(r"^/solr/(?P<core>[^/]+)/(?P<handler>.+?)/?$")


class QuerySyntaxError(ValueError):
    """Solr answers a query it cannot parse with HTTP 400; so does the stand-in."""


# --- the query language: a small recursive-descent parser into predicates over documents -------------

Predicate = Callable[[Document], bool]


@dataclass(frozen=True)
class Token:
    kind: str  # FIELD, WORD, PHRASE, RANGE, LPAREN, RPAREN, PLUS, MINUS, AND, OR, NOT
    text: str


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    position, length = 0, len(query)
    while position < length:
        char = query[position]
        if char.isspace():
            position += 1
        elif char in "()":
            tokens.append(Token("LPAREN" if char == "(" else "RPAREN", char))
            position += 1
        elif char in "+-!" and position + 1 < length and not query[position + 1].isspace():
            tokens.append(Token("PLUS" if char == "+" else "MINUS" if char == "-" else "NOT", char))
            position += 1
        elif char == '"':
            end = position + 1
            text = []
            while end < length and query[end] != '"':
                if query[end] == "\\" and end + 1 < length:
                    end += 1
                text.append(query[end])
                end += 1
            if end >= length:
                raise QuerySyntaxError(f"unterminated phrase in {query!r}")
            tokens.append(Token("PHRASE", "".join(text)))
            position = end + 1
        elif char in "[{":
            end = query.find("]" if char == "[" else "}", position)
            if end < 0:
                raise QuerySyntaxError(f"unterminated range in {query!r}")
            tokens.append(Token("RANGE", query[position : end + 1]))
            position = end + 1
        else:
            text = []
            while position < length and not query[position].isspace() and query[position] not in "()":
                if query[position] == "\\" and position + 1 < length:
                    text.append(query[position + 1])
                    position += 2
                    continue
                if query[position] == ":":
                    break
                text.append(query[position])
                position += 1
            word = "".join(text)
            if position < length and query[position] == ":":
                position += 1
                tokens.append(Token("FIELD", word))
            elif word in ("AND", "&&"):
                tokens.append(Token("AND", word))
            elif word in ("OR", "||"):
                tokens.append(Token("OR", word))
            elif word == "NOT":
                tokens.append(Token("NOT", word))
            else:
                tokens.append(Token("WORD", word))
    return tokens


def values_of(document: Document, name: str) -> list[Any]:
    value = document.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def term_matches(value: Any, wanted: str) -> bool:
    """Exact (case-insensitive) for keys like name and id; the words of a phrase within longer text."""
    text, wanted = as_text(value).lower(), wanted.lower()
    if "*" in wanted or "?" in wanted:
        return fnmatch.fnmatchcase(text, wanted)
    if text == wanted:
        return True
    return bool(wanted) and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", text) is not None


def term(field_name: str | None, wanted: str) -> Predicate:
    if field_name is None or field_name in ("text", "_text_"):

        def anywhere(document: Document) -> bool:
            if wanted == "*":
                return True
            return any(
                term_matches(value, wanted)
                for name in document
                if name not in NOT_TEXT_SEARCHED
                for value in values_of(document, name)
            )

        return anywhere
    if field_name == "*":
        if wanted != "*":
            raise QuerySyntaxError(f"*:{wanted} is not a query")
        return lambda document: True
    if wanted == "*":
        return lambda document: any(as_text(value) != "" for value in values_of(document, field_name))
    return lambda document: any(term_matches(value, wanted) for value in values_of(document, field_name))


def range_term(field_name: str | None, text: str) -> Predicate:
    match = re.fullmatch(r"([\[{])\s*(\S+)\s+TO\s+(\S+)\s*([\]}])", text)
    if field_name is None or match is None:
        raise QuerySyntaxError(f"unsupported range {text!r}")
    low_inclusive, low, high, high_inclusive = match[1] == "[", match[2], match[3], match[4] == "]"
    low_open, high_open = low == "*", high == "*" or high.startswith("NOW")

    def within(value: Any) -> bool:
        text_value = as_text(value)
        above = low_open or text_value > low or (low_inclusive and text_value == low)
        below = high_open or text_value < high or (high_inclusive and text_value == high)
        return above and below

    return lambda document: any(within(value) for value in values_of(document, field_name))


class Parser:
    """expr := and (OR and)* ; and := clause ((AND)? clause)* ; clause := [+|-|NOT] primary."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.position = 0

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda document: True
        predicate = self.expression(None)
        if self.position != len(self.tokens):
            raise QuerySyntaxError(f"unexpected {self.tokens[self.position].text!r} in {self.query!r}")
        return predicate

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError(f"unexpected end of {self.query!r}")
        self.position += 1
        return token

    def expression(self, field_name: str | None) -> Predicate:
        alternatives = [self.conjunction(field_name)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            alternatives.append(self.conjunction(field_name))
        if len(alternatives) == 1:
            return alternatives[0]
        return lambda document: any(alternative(document) for alternative in alternatives)

    def conjunction(self, field_name: str | None) -> Predicate:
        clauses = [self.clause(field_name)]
        while (token := self.peek()) is not None and token.kind not in ("OR", "RPAREN"):
            if token.kind == "AND":
                self.take()
            clauses.append(self.clause(field_name))
        if len(clauses) == 1:
            return clauses[0]
        return lambda document: all(clause(document) for clause in clauses)

    def clause(self, field_name: str | None) -> Predicate:
        token = self.peek()
        if token is not None and token.kind in ("PLUS", "MINUS", "NOT"):
            self.take()
            inner = self.primary(field_name)
            if token.kind == "PLUS":
                return inner
            return lambda document: not inner(document)
        return self.primary(field_name)

    def primary(self, field_name: str | None) -> Predicate:
        token = self.take()
        if token.kind == "LPAREN":
            inner = self.expression(field_name)
            if self.take().kind != "RPAREN":
                raise QuerySyntaxError(f"unbalanced parentheses in {self.query!r}")
            return inner
        if token.kind == "FIELD":
            if token.text.startswith("{!"):
                raise QuerySyntaxError(f"local parameters are not supported: {self.query!r}")
            return self.primary(token.text)
        if token.kind in ("WORD", "PHRASE"):
            return term(field_name, token.text)
        if token.kind == "RANGE":
            return range_term(field_name, token.text)
        raise QuerySyntaxError(f"unexpected {token.text!r} in {self.query!r}")


def parse_query(query: str) -> Predicate:
    return Parser(query.strip()).parse()


# --- the index and its handlers -------------------------------------------------------------------


def first(params: Params, name: str, default: str) -> str:
    values = params.get(name)
    return values[0] if values else default


def sort_key(name: str) -> Callable[[Document], tuple[int, Any]]:
    def key(document: Document) -> tuple[int, Any]:
        values = values_of(document, name)
        if not values:
            return (2, "")
        value = values[0]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (0, value)
        return (1, as_text(value).lower())

    return key


@dataclass
class Core:
    """One core's documents, by unique key; guarded by the server's lock."""

    documents: dict[str, Document] = field(default_factory=dict)

    def add(self, document: Document) -> None:
        key = document.get("index_id", document.get("id"))
        if key is None:
            raise QuerySyntaxError("a document needs index_id or id")
        self.documents[as_text(key)] = document

    def delete_query(self, query: str) -> None:
        matches = parse_query(query)
        for key in [key for key, document in self.documents.items() if matches(document)]:
            del self.documents[key]

    def delete_id(self, key: str) -> None:
        self.documents.pop(key, None)

    def select(self, params: Params) -> dict[str, Any]:
        predicates = [parse_query(first(params, "q", "*:*") or "*:*")]
        predicates += [parse_query(fq) for fq in params.get("fq", []) if fq.strip()]
        found = [doc for doc in self.documents.values() if all(match(doc) for match in predicates)]
        for clause in reversed(
            [part.split() for part in first(params, "sort", "").split(",") if part.strip()]
        ):
            if clause[0] != "score":
                descending = len(clause) > 1 and clause[1].lower() == "desc"
                found.sort(key=sort_key(clause[0]), reverse=descending)
        start, rows = int(first(params, "start", "0")), int(first(params, "rows", "10"))
        wanted = [name for name in re.split(r"[\s,]+", first(params, "fl", "*")) if name]
        page = [self.project(document, wanted) for document in found[start : start + max(rows, 0)]]
        response: dict[str, Any] = {
            "responseHeader": {"status": 0, "QTime": 0, "params": {k: v[-1] for k, v in params.items()}},
            "response": {"numFound": len(found), "start": start, "docs": page},
        }
        if first(params, "facet", "false") == "true":
            response["facet_counts"] = self.facets(found, params)
        return response

    @staticmethod
    def project(document: Document, wanted: list[str]) -> Document:
        if "*" in wanted:
            return dict(document)
        projected = {name: document[name] for name in wanted if name in document}
        if "score" in wanted:
            projected["score"] = 1.0
        return projected

    @staticmethod
    def facets(found: list[Document], params: Params) -> dict[str, Any]:
        limit = int(first(params, "facet.limit", "100"))
        minimum = int(first(params, "facet.mincount", "0"))
        fields: dict[str, list[Any]] = {}
        for name in params.get("facet.field", []):
            counts: dict[str, int] = {}
            for document in found:
                for value in values_of(document, name):
                    counts[as_text(value)] = counts.get(as_text(value), 0) + 1
            ranked = sorted(
                (item for item in counts.items() if item[1] >= minimum), key=lambda i: (-i[1], i[0])
            )
            fields[name] = [part for item in ranked[: limit if limit >= 0 else None] for part in item]
        return {"facet_queries": {}, "facet_fields": fields, "facet_ranges": {}, "facet_intervals": {}}


@dataclass
class SolrStandIn:
    """The server; `url` is what CKAN's solr_url should be set to. Use as a context manager."""

    core: str = "ckan"
    host: str = "127.0.0.1"
    cores: dict[str, Core] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Solr stand-in is not running")
        return f"http://{self.host}:{self._server.server_address[1]}/solr/{self.core}"

    def documents(self, core: str | None = None) -> list[Document]:
        with self.lock:
            return list(self.cores.get(core or self.core, Core()).documents.values())

    def start(self) -> SolrStandIn:
        """Port 0: the kernel picks a free port, with no race against other processes."""
        self._server = ThreadingHTTPServer((self.host, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="solr-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server, self._thread = None, None

    def __enter__(self) -> SolrStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- request handling, called from the server's threads --

    def handle(
        self, method: str, path: str, params: Params, body: bytes, content_type: str
    ) -> tuple[int, str]:
        self.seen.append(f"{method} {path}")
        route = ROUTE.match(path)
        if route is None:
            return error(HTTPStatus.NOT_FOUND, f"no handler for {path}")
        handler = route["handler"]
        if handler in ("schema", "admin/file"):
            return HTTPStatus.OK, SCHEMA_XML
        if handler == "admin/ping":
            return ok({"status": "OK"})
        try:
            with self.lock:
                core = self.cores.setdefault(route["core"], Core())
                if handler in ("select", "query"):
                    if method == "POST" and "x-www-form-urlencoded" in content_type:
                        params = {**params, **parse_qs(body.decode(), keep_blank_values=True)}
                    return HTTPStatus.OK, json.dumps(core.select(params))
                if handler in ("update", "update/json", "update/xml") and method == "POST":
                    update(core, body, content_type)
                    return ok({})
        except (QuerySyntaxError, ValueError, KeyError, TypeError, ElementTree.ParseError) as problem:
            return error(HTTPStatus.BAD_REQUEST, f"{type(problem).__name__}: {problem}")
        return error(HTTPStatus.NOT_FOUND, f"no handler for {method} {path}")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.respond(b"")

            def do_POST(self) -> None:
                self.respond(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def respond(self, body: bytes) -> None:
                parts = urlsplit(self.path)
                params = parse_qs(parts.query, keep_blank_values=True)
                content_type = self.headers.get("Content-Type", "")
                status, text = stand_in.handle(self.command, parts.path, params, body, content_type)
                payload = text.encode()
                self.send_response(status)
                is_xml = text.startswith("<?xml")
                self.send_header("Content-Type", "application/xml" if is_xml else "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Requests are kept in stand_in.seen instead of written to stderr."""

        return Handler


def ok(body: dict[str, Any]) -> tuple[int, str]:
    return HTTPStatus.OK, json.dumps({"responseHeader": {"status": 0, "QTime": 0}, **body})


def error(status: HTTPStatus, message: str) -> tuple[int, str]:
    body = {
        "responseHeader": {"status": int(status), "QTime": 0},
        "error": {"msg": message, "code": int(status)},
    }
    return status, json.dumps(body)


def update(core: Core, body: bytes, content_type: str) -> None:
    """Apply an update request; commit needs nothing, as every change is visible at once."""
    text = body.decode().strip()
    if not text:
        return
    if "json" in content_type or text[0] in "[{":
        update_json(core, json.loads(text))
    else:
        update_xml(core, ElementTree.fromstring(text))


def update_json(core: Core, message: Any) -> None:
    if isinstance(message, list):
        for document in message:
            core.add(document)
        return
    for command, argument in message.items():
        if command == "add":
            for item in argument if isinstance(argument, list) else [argument]:
                core.add(item.get("doc", item))
        elif command == "delete":
            for item in argument if isinstance(argument, list) else [argument]:
                if isinstance(item, dict) and "query" in item:
                    core.delete_query(item["query"])
                else:
                    core.delete_id(as_text(item.get("id") if isinstance(item, dict) else item))
        elif command not in ("commit", "optimize", "rollback"):
            raise QuerySyntaxError(f"unknown update command {command!r}")


def update_xml(core: Core, root: ElementTree.Element) -> None:
    commands = [root] if root.tag != "update" else list(root)
    for command in commands:
        if command.tag == "add":
            for document in command.iter("doc"):
                core.add(xml_document(document))
        elif command.tag == "delete":
            for child in command:
                if child.tag == "id":
                    core.delete_id(child.text or "")
                elif child.tag == "query":
                    core.delete_query(child.text or "*:*")
        elif command.tag not in ("commit", "optimize", "rollback"):
            raise QuerySyntaxError(f"unknown update command <{command.tag}>")


def xml_document(element: ElementTree.Element) -> Document:
    document: Document = {}
    for item in element.iter("field"):
        name, value = item.get("name", ""), item.text or ""
        if name in document:
            existing = document[name]
            document[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            document[name] = value
    return document
