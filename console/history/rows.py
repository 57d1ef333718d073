"""SQL text in, rows out: quoting, fetching at most N rows, a chart's shape, DuckDB's errors.

Every statement the history runs goes through these few rules, so a cap on rows, a cancelled
query and a failing one read the same wherever they happen: a capped fetch says it was
truncated, an interrupt becomes QueryCancelled, and any other database error a HistoryError
carrying DuckDB's own message (which says where the SQL breaks).
"""

from __future__ import annotations

from typing import Any

from console.core import Problem
from console.history.results import HistoryError, QueryCancelled
from console.history.schema import TABLES

NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "REAL",
)
"""DuckDB type names (prefixes) whose columns hold numbers."""

Fetched = tuple[list[str], list[str], list[list[Any]], bool]
"""(columns, their DuckDB types, rows, truncated)."""


def sql_str(text: str) -> str:
    """A string literal for SQL."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier (a column name as a file spells it)."""
    return '"' + name.replace('"', '""') + '"'


def fetch(cur: Any, limit: int) -> Fetched:
    """The rows of the statement `cur` ran: at most `limit` of them (0: all)."""
    desc = cur.description
    if not desc:
        return [], [], [], False
    columns = [d[0] for d in desc]
    types = [str(d[1]) for d in desc]
    if limit and limit > 0:
        raw = cur.fetchmany(limit + 1)
        truncated = len(raw) > limit
        raw = raw[:limit]
    else:
        raw = cur.fetchall()
        truncated = False
    return columns, types, [list(r) for r in raw], truncated


def run(
    cur: Any, statements: list[tuple[str, list[Any]]], sql: str, params: list[Any], limit: int
) -> Fetched:
    """Run one statement of a named query, noting it in `statements`, and fetch its rows."""
    statements.append((sql, params))
    try:
        cur.execute(sql, params)
        return fetch(cur, limit)
    except Exception as exc:
        raise db_error(exc, "the named query") from None


def db_error(exc: BaseException, what: str, hint: str | None = None) -> HistoryError:
    """DuckDB's exception as the history's error: QueryCancelled for an interrupt."""
    import duckdb

    if isinstance(exc, duckdb.InterruptException):
        return QueryCancelled(f"{what} was cancelled")
    problems = [Problem("SQL", None, hint)] if hint else []
    return HistoryError(f"{what} failed: {str(exc).strip()}", problems)


def sql_hint(exc: BaseException, memory_limit: str | None) -> str | None:
    """What to do about an ad-hoc query the database refused, where there is something to say."""
    low = str(exc).lower()
    if "read-only" in low or "read only" in low:
        return "history queries run read-only; load data with 'fixmap history ingest'"
    if "does not exist" in low and "table" in low:
        return "tables: " + ", ".join(TABLES)
    if "configuration has been locked" in low:
        return (
            "ad-hoc SQL cannot change the history's settings; set them in the site config's "
            "[history] table (memory_limit)"
        )
    if "file system operations are disabled" in low:
        return "ad-hoc SQL reads the history only; ingest files with 'fixmap history ingest'"
    if "out of memory" in low:
        return (
            f"the query needs more than the {memory_limit} the history may use; "
            "narrow it (a time range, fewer series) or raise [history] memory_limit"
        )
    return None


def chart_shape(columns: list[str], types: list[str]) -> tuple[str | None, list[str], str | None]:
    """Guess a chart from column types: the first time column, numeric series, a text grouping."""
    time_col = next(
        (c for c, t in zip(columns, types, strict=True) if t.startswith(("TIMESTAMP", "DATE"))),
        None,
    )
    if time_col is None:
        return None, [], None
    series = [
        c
        for c, t in zip(columns, types, strict=True)
        if t.startswith(NUMERIC_TYPES) and not t.endswith("[]")
    ]
    group = next((c for c, t in zip(columns, types, strict=True) if t == "VARCHAR"), None)
    return time_col, series, group
