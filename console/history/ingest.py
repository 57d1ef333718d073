"""Metric files into the history: CSV and Parquet, read by DuckDB's own readers, in bulk.

Columns are found by name (ts/timestamp/time, service, metric/name, value, labels; the accepted
spellings are COLUMN_SPELLINGS); any other column becomes a label. Times may be ISO text, a
timestamp type or epoch seconds/milliseconds/microseconds/nanoseconds (told apart by size).
A load is all or nothing: a file that cannot be mapped, or a row that cannot be stored, names
the file, the column, the first bad line and what to do, and nothing from any file is kept.
A file loaded before (same content: a SHA-256 of the whole file) is skipped unless forced; a
file loaded again replaces the rows it covers (load_files).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from console.core import Problem, closest
from console.history.results import (
    HistoryError,
    IngestReport,
    QueryCancelled,
    SourceReport,
    first_line,
    storage_error,
)
from console.history.rows import NUMERIC_TYPES, ident, sql_str
from console.history.times import utcnow

# Accepted spellings of each column of a metric file (lower-cased, stripped).
COLUMN_SPELLINGS: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "time", "datetime", "date_time", "date", "@timestamp"),
    "service": ("service", "service_name", "svc", "job", "app"),
    "metric": ("metric", "name", "metric_name", "__name__", "series"),
    "value": ("value", "val", "metric_value", "y"),
    "labels": ("labels", "tags", "attributes"),
}
FILE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".pq")


def load_files(
    conn: Any, fingerprints: Mapping[Path, str], *, service: str | None, force: bool
) -> IngestReport:
    """Insert the files (each with its fingerprint) into samples on `conn`, inside the caller's
    transaction; any bad file raises before a row is inserted, any bad row before the commit.

    A file seen before with the same content is skipped unless `force`. A file loaded again
    (`force`, or changed content at a path ingested before) replaces the rows it covers: those
    of its series (service and metric) within each one's time range in the file, so a corrected
    or grown file never leaves duplicates."""
    report = IngestReport(rows=0, elapsed_s=0.0)
    plans: list[tuple[Path, tuple[str, dict[str, tuple[str, str]]], SourceReport, bool]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    known_paths: set[str] = set()
    for fp, source in conn.execute(
        "SELECT fingerprint, source FROM ingests WHERE fingerprint IS NOT NULL"
    ).fetchall():
        seen.add(fp)
        known_paths.add(source)
    for f, fp in fingerprints.items():
        kind = "parquet" if f.name.lower().endswith((".parquet", ".pq")) else "csv"
        src = SourceReport(str(f), kind)
        report.sources.append(src)
        if not force and fp in seen:
            src.skipped = "ingested before (same content); use --force to load it again"
            continue
        seen.add(fp)
        again = force or str(f) in known_paths or source_name(f) in known_paths
        try:
            plans.append((f, _file_select(conn, f, kind, service), src, again))
        except HistoryError as exc:
            problems.extend(exc.problems)
    if problems:
        raise HistoryError("nothing was ingested: fix these files and run again", problems)
    # every file's old rows go before any file's new ones: two files of one load never
    # replace each other
    for f, (select, chosen), src, again in plans:
        if not again:
            continue
        try:
            row = conn.execute(_replace_covered(select)).fetchone()
        except Exception as exc:
            raise _insert_error(exc, f, src.kind, chosen) from None
        report.replaced += int(row[0]) if row else 0
    for f, (select, chosen), src, _again in plans:
        try:
            src.rows = int(conn.execute(f"INSERT INTO samples {select}").fetchone()[0])
        except Exception as exc:
            raise _insert_error(exc, f, src.kind, chosen) from None
        conn.execute(
            "INSERT INTO ingests VALUES (?, ?, ?, ?, ?)",
            [utcnow(), source_name(f), src.kind, fingerprints[f], src.rows],
        )
        report.rows += src.rows
    return report


def _replace_covered(select: str) -> str:
    """DELETE of the samples a file's rows cover: per series, within its first and last time.

    `select` is `_file_select`'s "(COLUMNS) SELECT ...": the columns name its outputs."""
    columns, body = select.split(") SELECT ", 1)
    return (
        "DELETE FROM samples USING (SELECT service, metric, min(ts) AS lo, max(ts) AS hi "
        f"FROM (SELECT {body}) AS f({columns.lstrip('(')}) GROUP BY service, metric) AS r "
        "WHERE samples.service = r.service AND samples.metric = r.metric "
        "AND samples.ts >= r.lo AND samples.ts <= r.hi"
    )


def source_name(path: Path) -> str:
    """How a file is named in the ingests table: its absolute path."""
    return str(path.resolve())


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files, folders (their CSV/Parquet files) and glob patterns -> files; a clear error for the rest."""
    out: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if any(ch in str(raw) for ch in "*?["):
            matches = sorted(
                q
                for q in Path(p.anchor or ".").glob(
                    str(p.relative_to(p.anchor)) if p.anchor else str(p)
                )
                if q.is_file()
            )
            if not matches:
                problems.append(Problem(str(raw), None, "no file matches this pattern"))
            out.extend(matches)
        elif p.is_dir():
            found = sorted(
                q for q in p.rglob("*") if q.is_file() and q.name.lower().endswith(FILE_SUFFIXES)
            )
            if not found:
                problems.append(Problem(str(p), None, "no CSV or Parquet files in this folder"))
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            problems.append(Problem(str(p), None, "no such file or folder"))
    for p in out:
        if not p.name.lower().endswith(FILE_SUFFIXES):
            problems.append(
                Problem(
                    str(p),
                    None,
                    "not a CSV or Parquet file",
                    hint="name it .csv, .csv.gz, .tsv or .parquet",
                )
            )
    if not out and not problems:
        problems.append(Problem(None, None, "no files given"))
    if problems:
        raise HistoryError("nothing was ingested", problems)
    unique: list[Path] = []
    for p in out:
        if p not in unique:
            unique.append(p)
    return unique


def fingerprint(path: Path) -> str:
    """Size and SHA-256 of the whole file (read in a stream): any change of content is seen."""
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
        size = fh.tell()
    return f"{size}:sha256:{digest}"


_DELIMITERS = (",", "\t", ";", "|")


def _ragged_row(path: Path) -> Problem | None:
    """The first line of a CSV file whose number of fields differs from its header's (a scan of
    the file, on the error path only), or None when every line has as many as the header."""
    import csv
    import gzip
    import io

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
            header_line = text.readline()
            delim = max(_DELIMITERS, key=header_line.count)
            if not header_line.count(delim):
                return None
            width = len(next(csv.reader([header_line], delimiter=delim)))
            reader = csv.reader(text, delimiter=delim)
            for row in reader:
                if row and len(row) != width:
                    shown = delim.join(row)
                    shown = shown if len(shown) <= 60 else shown[:59] + "…"
                    return Problem(
                        str(path),
                        None,
                        f"line {reader.line_num + 1}: {len(row)} field{'s' if len(row) != 1 else ''} "
                        f"where the header has {width} ({shown!r})",
                        hint="fix or delete that line",
                    )
    except (OSError, EOFError, csv.Error):
        return None
    return None


def _reader(path: Path, kind: str, types: dict[str, str] | None = None) -> str:
    if kind == "parquet":
        return f"read_parquet({sql_str(str(path))})"
    if types:
        # the sniffer only samples the file: a column of integers that turns to 12.5 on line
        # 30,000, or a service named 123, must not fail the load
        struct = ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in types.items())
        return f"read_csv({sql_str(str(path))}, header = true, types = {{{struct}}})"
    return f"read_csv({sql_str(str(path))}, header = true)"


def _file_select(
    conn: Any, path: Path, kind: str, service: str | None
) -> tuple[str, dict[str, tuple[str, str]]]:
    """'(columns) SELECT ...' mapping a file's columns onto samples (labels only when the file
    has any), and the columns it chose per role (role -> (column, type)); or a HistoryError
    naming what is wrong."""
    file = str(path)
    try:
        described = conn.execute(f"DESCRIBE SELECT * FROM {_reader(path, kind)}").fetchall()
    except Exception as exc:
        ragged = _ragged_row(path) if kind == "csv" else None
        raise HistoryError(
            f"cannot read {file}",
            [
                ragged
                or Problem(
                    file,
                    None,
                    first_line(exc),
                    hint="is it a valid " + ("Parquet" if kind == "parquet" else "CSV") + " file?",
                )
            ],
        ) from None
    cols = [(str(r[0]), str(r[1])) for r in described]
    if kind == "csv" and len(cols) == 1 and any(d in cols[0][0] for d in _DELIMITERS):
        # one row with the wrong number of fields makes the sniffer read the file as a single
        # column named after the whole header: blame that row, not the columns
        ragged = _ragged_row(path)
        if ragged is not None:
            raise HistoryError(f"nothing was ingested: {file} has a bad row", [ragged])
    by_low: dict[str, tuple[str, str]] = {}
    for name, typ in cols:
        by_low.setdefault(name.strip().lower(), (name, typ))
    chosen: dict[str, tuple[str, str]] = {}
    for role, spellings in COLUMN_SPELLINGS.items():
        for s in spellings:
            if s in by_low and by_low[s][0] not in {c[0] for c in chosen.values()}:
                chosen[role] = by_low[s]
                break
    used = {c[0] for c in chosen.values()}
    unused = [name for name, _ in cols if name not in used]
    problems: list[Problem] = []
    required = ["ts", "metric", "value"] + ([] if service else ["service"])
    for role in required:
        if role in chosen:
            continue
        spellings = COLUMN_SPELLINGS[role]
        guess = None
        for name in unused:
            if closest(name.strip().lower(), spellings):
                guess = name
                break
        accepted = "/".join(spellings[:4])
        if guess:
            reason = f"no '{role}' column; '{guess}' looks like a typo"
            hint = f"rename column '{guess}' to '{closest(guess.strip().lower(), spellings)}'"
        else:
            reason = f"no '{role}' column (accepted names: {accepted})"
            hint = "columns in the file: " + ", ".join(name for name, _ in cols)
            if role == "service":
                hint = "add a service column, or name the service with --service NAME"
        problems.append(Problem(file, role, reason, hint=hint))
    if problems:
        raise HistoryError(f"{file} cannot be ingested", problems)

    ts_name, ts_type = chosen["ts"]
    ts_col = ident(ts_name)
    # timezone('UTC', ...) rather than a cast: a cast from TIMESTAMPTZ into a column list
    # drops the offset in DuckDB 2.0 (and would depend on the session's time zone anyway)
    if ts_type in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        ts_expr = f"timezone('UTC', {ts_col})"
    elif ts_type.startswith("TIMESTAMP") or ts_type == "DATE":
        ts_expr = f"CAST({ts_col} AS TIMESTAMP)"
    elif ts_type.startswith(NUMERIC_TYPES):
        # epoch seconds, milliseconds, microseconds or nanoseconds, by magnitude
        ts_expr = (
            f"make_timestamp(CAST(CASE WHEN abs({ts_col}) >= 1e17 THEN {ts_col} / 1000 "
            f"WHEN abs({ts_col}) >= 1e14 THEN {ts_col} WHEN abs({ts_col}) >= 1e11 THEN {ts_col} * 1000 "
            f"ELSE {ts_col} * 1000000 END AS BIGINT))"
        )
    elif ts_type == "VARCHAR":
        ts_expr = f"timezone('UTC', CAST({ts_col} AS TIMESTAMPTZ))"
    else:
        raise HistoryError(
            f"{file} cannot be ingested",
            [
                Problem(
                    file,
                    ts_name,
                    f"column '{ts_name}' is {ts_type}, not a time",
                    hint="use ISO times (2024-05-01T10:00:00Z) or epoch seconds/milliseconds",
                )
            ],
        )

    if kind == "csv":
        forced = {chosen["value"][0]: "DOUBLE"}
        for role in ("service", "metric", "labels"):
            if role in chosen:
                forced[chosen[role][0]] = "VARCHAR"
        for role, (name, _typ) in list(chosen.items()):
            if name in forced:
                chosen[role] = (name, forced[name])
        cols = [(n, forced.get(n, t)) for n, t in cols]
    else:
        forced = None
    v_name, v_type = chosen["value"]
    if v_type.startswith(NUMERIC_TYPES):
        value_expr = f"CAST({ident(v_name)} AS DOUBLE)"
    elif v_type == "VARCHAR":
        value_expr = f"CAST(NULLIF(trim({ident(v_name)}), '') AS DOUBLE)"
    else:
        raise HistoryError(
            f"{file} cannot be ingested",
            [Problem(file, v_name, f"column '{v_name}' is {v_type}, not a number")],
        )

    def text(role: str) -> str:
        name, typ = chosen[role]
        return ident(name) if typ == "VARCHAR" else f"CAST({ident(name)} AS VARCHAR)"

    service_expr = text("service") if "service" in chosen else sql_str(service or "")
    metric_expr = text("metric")
    extras = [(name, typ) for name, typ in cols if name not in {c[0] for c in chosen.values()}]
    label_parts: list[str] = []
    if "labels" in chosen:
        lname, ltype = chosen["labels"]
        label_parts.append(ident(lname) if ltype == "VARCHAR" else f"to_json({ident(lname)})")
    if extras:
        pairs = ", ".join(f"{sql_str(n)}, CAST({ident(n)} AS VARCHAR)" for n, _ in extras)
        label_parts.append(f"json_object({pairs})")
    if not label_parts:
        labels_expr = None  # nothing to write: the column's default NULL costs no writing
    elif len(label_parts) == 1:
        labels_expr = f"NULLIF(CAST({label_parts[0]} AS VARCHAR), '{{}}')"
    else:
        labels_expr = (
            f"NULLIF(CAST(json_merge_patch({label_parts[0]}, {label_parts[1]}) AS VARCHAR), '{{}}')"
        )
    columns = "ts, service, metric, value" + (", labels" if labels_expr else "")
    exprs = [ts_expr, service_expr, metric_expr, value_expr] + (
        [labels_expr] if labels_expr else []
    )
    return (f"({columns}) SELECT {', '.join(exprs)} FROM {_reader(path, kind, forced)}"), chosen


def _insert_error(
    exc: BaseException, path: Path, kind: str, chosen: dict[str, tuple[str, str]]
) -> BaseException:
    """What went wrong in a file that failed half-way, with the first offending row."""
    import duckdb

    if isinstance(exc, duckdb.InterruptException):
        return QueryCancelled(f"ingesting {path} was cancelled; nothing was kept")
    if storage_error(exc, None) is not None:
        return exc  # a full disk, not a bad row: History.write says so, naming the file
    text = str(exc).strip()
    low = text.lower()
    role = None
    hint = None
    m = re.search(r"not null constraint failed: samples\.(\w+)", low)
    if m:
        role = m.group(1)
        hint = f"every row needs a {role}"
    elif "double" in low:
        role = "value"
        hint = "the value column must hold numbers"
    elif "timestamp" in low or "date" in low:
        role = "ts"
        hint = "use ISO times (2024-05-01T10:00:00Z) or epoch seconds/milliseconds"
    csv_line = re.search(r"CSV Error on Line: (\d+)", text)
    csv_column = re.search(r'Error when converting column "(.+?)"\. (.+)', text)
    if csv_line and kind == "csv":
        # a line with too few or too many fields is blamed on whichever column DuckDB was
        # converting when it met it: say what is wrong with the line instead
        ragged = _ragged_row(path)
        if ragged is not None:
            return HistoryError(f"nothing was ingested: {path} has a bad row", [ragged])
    if csv_line and csv_column:
        by_name = {name: r for r, (name, _t) in chosen.items()}
        role = by_name.get(csv_column.group(1), role)
        return HistoryError(
            f"nothing was ingested: {path} has a bad row",
            [
                Problem(
                    str(path),
                    csv_column.group(1),
                    f"line {csv_line.group(1)}: {csv_column.group(2)}",
                    hint=hint if role != "ts" else "use one time format throughout the file",
                )
            ],
        )
    if csv_line:
        return HistoryError(
            f"nothing was ingested: {path} has a bad row",
            [Problem(str(path), None, f"line {csv_line.group(1)}: {text.splitlines()[0]}")],
        )
    column = chosen[role][0] if role in chosen else role
    reason = text.splitlines()[0]
    if role in chosen:
        where = _first_bad_row(path, kind, role, chosen[role])
        if where:
            reason = f"{where}: {reason}"
    return HistoryError(
        f"nothing was ingested: {path} has a bad row",
        [Problem(str(path), column, reason, hint=hint)],
    )


def _first_bad_row(path: Path, kind: str, role: str, column: tuple[str, str]) -> str | None:
    """'line 12 has 'abc'' for the first row whose `role` column cannot be stored (best effort)."""
    import duckdb

    name, typ = column
    col = ident(name)
    if role == "value":
        bad = f"{col} IS NOT NULL AND TRY_CAST({col} AS DOUBLE) IS NULL AND trim(CAST({col} AS VARCHAR)) <> ''"
    elif role == "ts" and typ == "VARCHAR":
        bad = f"{col} IS NULL OR TRY_CAST({col} AS TIMESTAMPTZ) IS NULL"
    else:
        bad = f"{col} IS NULL"
    con = duckdb.connect()  # in memory: the history file is not touched
    try:
        con.execute("SET TimeZone = 'UTC'")
        row = con.execute(
            f"SELECT n, CAST({col} AS VARCHAR) FROM (SELECT row_number() OVER () AS n, * "
            f"FROM {_reader(path, kind)}) WHERE {bad} LIMIT 1"
        ).fetchone()
    except Exception:
        return None
    finally:
        con.close()
    if row is None:
        return None
    n, raw = row
    where = f"line {n + 1}" if kind == "csv" else f"row {n}"
    return f"{where} has {raw!r}" if raw is not None else f"{where} has no {name}"
