"""One data file per section, in the job's format, streamed into a hashing sink.

`open_writer(format, sink, columns, types)` returns a `SectionWriter`: `write_rows(chunk)` as often as
needed, then `close()` (JSON's closing `]`, Parquet's footer). Memory stays bounded: text writers keep at
most a ~256 KiB buffer, Parquet one row group.

Values are converted in one place (`text_value` and `json_default`), the same way in every format:

- datetime → ISO 8601. An aware value keeps its offset; a naive one is taken as UTC and written with
  `+00:00` (Django stores UTC, and SQLite hands UTC back naive). Microseconds appear only when non-zero.
- date → `YYYY-MM-DD`; Decimal → its exact decimal text, never in exponent form, never through a float
  (a string in JSON/NDJSON/CSV); bytes → base64; bool → true/false; int and float → numbers; a float
  NaN or infinity → null (a Parquet float64 column keeps it); None → null (an empty cell in CSV);
  dict/list → nested JSON (compact JSON text in CSV and Parquet); anything else → str().
- Text formats write values as read: declared `types` matter only to Parquet, and to CSV's formula guard
  (a numeric-looking string in a numeric column is a number, not a formula).

CSV: UTF-8 with a byte-order mark, because Excel, the tool privacy officers and subjects' lawyers use,
reads BOM-less CSV in the machine's legacy code page and garbles every non-ASCII name; pandas, DuckDB and
LibreOffice skip the BOM (Python: `encoding="utf-8-sig"`). RFC 4180 `\\r\\n` rows. Formula guard
(OWASP, CWE-1236): a text cell starting with `=`, `+`, `-`, `@`, TAB, CR or NUL gets a leading `'`;
int/float/Decimal values are numbers and are never prefixed.

Parquet: string, int64, float64, bool, timestamp[us, tz=UTC], date32; `decimal` is written as exact text
(string) — decimal128(38, 9) would refuse values with more than 9 decimal places or 29 integer digits, and
a mapping's decimal columns carry no precision; `json` is a string of compact JSON. Both keep their
declared type in the field metadata (`dsar:type`). A value that cannot be converted to its column's type
raises ValueError naming the column and the type, never the value.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import IO, Any, Protocol

import orjson

TEXT_CHUNK_ROWS = 1024  # rows serialised between writes to the sink
TEXT_FLUSH_BYTES = 256 * 1024
PARQUET_ROW_GROUP_ROWS = 32 * 1024  # ARROW-10052: 16k-32k-row groups read well when filtered
CSV_BOM = b"\xef\xbb\xbf"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
EXTENSIONS = {"JSON": "json", "CSV": "csv", "NDJSON": "ndjson", "PARQUET": "parquet"}
NUMERIC_TYPES = frozenset({"int64", "float64", "decimal"})

_JSON_OPTIONS = orjson.OPT_NAIVE_UTC
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_BOOLS = {"true": True, "t": True, "yes": True, "y": True, "1": True}
_BOOLS |= {"false": False, "f": False, "no": False, "n": False, "0": False}


class HashingSink:
    """A write-only stream over `raw` (e.g. a `ZipFile.open(name, "w")` entry, which cannot seek or
    tell) that counts and hashes what goes through it: the bytes a reader will extract.

    `close()` only marks the sink closed; `raw` belongs to whoever opened it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self._bytes = 0
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write to a closed sink")
        n = memoryview(data).nbytes
        self._hash.update(data)
        self._raw.write(data)
        self._bytes += n
        return n

    def tell(self) -> int:
        return self._bytes

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    @property
    def bytes_written(self) -> int:
        return self._bytes

    def sha256_hex(self) -> str:
        return self._hash.hexdigest()


class SectionWriter(Protocol):
    extension: str

    def write_rows(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Write rows (values in `columns` order); may be called many times. Returns the rows written."""

    def close(self) -> None:
        """Finish the file. The sink stays open."""


def open_writer(
    format: str, sink: HashingSink, columns: Sequence[str], types: Mapping[str, str]
) -> SectionWriter:
    kind = format.upper()
    if kind == "JSON":
        return JsonWriter(sink, columns)
    if kind == "NDJSON":
        return NdjsonWriter(sink, columns)
    if kind == "CSV":
        return CsvWriter(sink, columns, types)
    if kind == "PARQUET":
        return ParquetWriter(sink, columns, types)
    raise ValueError(f"unknown export format {format!r}")


# --- value conversion -------------------------------------------------------------------------------


def decimal_text(value: Decimal) -> str:
    text = str(value)  # exact, but in exponent form for some values (Decimal("1E+3"), Decimal("1E-7"))
    # "f" never uses exponent form and keeps every digit and trailing zero; str() is 3x faster.
    return format(value, "f") if "E" in text else text


def datetime_text(value: datetime) -> str:
    """ISO 8601, exactly as the JSON formats write it (orjson, with naive taken as UTC), and 3x faster
    than isoformat(). orjson writes the offset to the minute as RFC 3339 requires: only pre-1900 local
    mean time zones have seconds in their offsets."""
    return orjson.dumps(value, option=_JSON_OPTIONS)[1:-1].decode("ascii")


def bytes_text(value: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(value).decode("ascii")


def json_default(value: Any) -> Any:
    """orjson's fallback for what it doesn't serialise natively (it does str, int, float, bool, None,
    datetime with OPT_NAIVE_UTC, date, UUID, dict, list, tuple, dataclass)."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes_text(value)
    return str(value)


def compact_json(value: Any) -> str:
    try:
        return orjson.dumps(
            value, default=json_default, option=_JSON_OPTIONS | orjson.OPT_NON_STR_KEYS
        ).decode()
    except orjson.JSONEncodeError:
        # A lone surrogate or an int beyond 64 bits somewhere inside: the standard library writes both.
        text = json.dumps(
            value, default=text_value, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
        return valid_text(text)


def valid_text(text: str) -> str:
    """Text that encodes as UTF-8: a lone surrogate (a badly decoded file name or file) becomes a visible
    `\\udcff` escape instead of stopping the export or producing invalid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def text_value(value: Any) -> str | None:
    """A value as text, as CSV and Parquet string columns write it (None for null)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes_text(value)
    if isinstance(value, dict | list | tuple):
        return compact_json(value)
    return str(value)


def guard_formula(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: None → empty, numbers as numbers, text guarded against formulas."""
    kind = type(value)
    # Fast paths for what sources return most; csv.writer writes int as str() and None as "".
    if kind is str:
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if kind is int or value is None:
        return value
    if kind is datetime:
        return datetime_text(value)
    if kind is Decimal:
        return decimal_text(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else None
    text = text_value(value)
    if text is None or isinstance(value, bool | int | float | Decimal):
        return text
    return guard_formula(text)


# --- JSON and NDJSON --------------------------------------------------------------------------------


class _JsonRows:
    """Serialises rows as compact JSON objects with orjson, one call per row."""

    def __init__(self, columns: Sequence[str]) -> None:
        self._columns = tuple(columns)

    def dump(self, row: tuple[Any, ...]) -> bytes:
        try:
            return orjson.dumps(
                dict(zip(self._columns, row, strict=False)), default=json_default, option=_JSON_OPTIONS
            )
        except orjson.JSONEncodeError:
            return self._dump_slowly(row)

    def _dump_slowly(self, row: tuple[Any, ...]) -> bytes:
        # orjson refuses integers outside 64 bits without calling `default`: write them as JSON numbers.
        # It also refuses lone surrogates (see valid_text), also inside nested values.
        values = {}
        for column, value in zip(self._columns, row, strict=False):
            if type(value) is int and not _INT64_MIN <= value <= _INT64_MAX:
                value = orjson.Fragment(str(value))
            elif isinstance(value, str):
                value = valid_text(value)
            elif isinstance(value, dict | list | tuple):
                value = orjson.Fragment(compact_json(value))
            values[column] = value
        try:
            return orjson.dumps(values, default=json_default, option=_JSON_OPTIONS)
        except orjson.JSONEncodeError:
            raise ValueError("a row cannot be written as JSON") from None


class JsonWriter:
    """One JSON array of objects, streamed: `[`, then the objects separated by `,\\n`, then `]`."""

    extension = "json"

    def __init__(self, sink: HashingSink, columns: Sequence[str]) -> None:
        self._sink = sink
        self._rows = _JsonRows(columns)
        self._count = 0

    def write_rows(self, rows: Iterable[tuple[Any, ...]]) -> int:
        # One growing bytearray per call, written every TEXT_FLUSH_BYTES: appending to it costs less than
        # keeping a list of small bytes objects alive until a join (measured in bench/README.md).
        dump = self._rows.dump
        buffer = bytearray()
        written = 0
        for row in rows:
            buffer += b",\n" if self._count + written else b"[\n"
            buffer += dump(row)
            written += 1
            if len(buffer) >= TEXT_FLUSH_BYTES:
                self._sink.write(buffer)
                buffer = bytearray()
        if buffer:
            self._sink.write(buffer)
        self._count += written
        return written

    def close(self) -> None:
        self._sink.write(b"\n]\n" if self._count else b"[]\n")


class NdjsonWriter:
    """One compact JSON object per line, each line ending in `\\n`. Zero rows is an empty file."""

    extension = "ndjson"

    def __init__(self, sink: HashingSink, columns: Sequence[str]) -> None:
        self._sink = sink
        self._rows = _JsonRows(columns)

    def write_rows(self, rows: Iterable[tuple[Any, ...]]) -> int:
        dump = self._rows.dump
        buffer = bytearray()  # as JsonWriter's
        written = 0
        for row in rows:
            buffer += dump(row)
            buffer += b"\n"
            written += 1
            if len(buffer) >= TEXT_FLUSH_BYTES:
                self._sink.write(buffer)
                buffer = bytearray()
        if buffer:
            self._sink.write(buffer)
        return written

    def close(self) -> None:
        """NDJSON has no closing bracket: the last line already ends the file."""


# --- CSV --------------------------------------------------------------------------------------------


class CsvWriter:
    extension = "csv"

    def __init__(self, sink: HashingSink, columns: Sequence[str], types: Mapping[str, str]) -> None:
        self._sink = sink
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer)  # the excel dialect: RFC 4180 quoting and \r\n
        # Numeric-looking strings in numeric columns (a CSV file source reads everything as text) are
        # plain numbers to a spreadsheet, not formulas: they are written unprefixed.
        self._numeric = [i for i, column in enumerate(columns) if types.get(column) in NUMERIC_TYPES]
        sink.write(CSV_BOM)
        self._csv.writerow([guard_formula(column) for column in columns])
        self._flush()

    def _convert(self, row: tuple[Any, ...]) -> list[Any]:
        cells = list(map(csv_cell, row))
        for i in self._numeric:
            value = row[i]
            if type(value) is str and _PLAIN_NUMBER.fullmatch(value):
                cells[i] = value
        return cells

    def write_rows(self, rows: Iterable[tuple[Any, ...]]) -> int:
        convert: Callable[[tuple[Any, ...]], list[Any]] = self._convert
        if not self._numeric:
            convert = _map_csv_cells
        written = 0
        iterator = iter(rows)
        while chunk := list(islice(iterator, TEXT_CHUNK_ROWS)):
            self._csv.writerows(map(convert, chunk))
            written += len(chunk)
            if self._buffer.tell() >= TEXT_FLUSH_BYTES:
                self._flush()
        self._flush()
        return written

    def _flush(self) -> None:
        text = self._buffer.getvalue()
        if text:
            # backslashreplace: a lone surrogate (text read from a badly encoded file) must neither stop
            # the export nor produce invalid UTF-8; it is written as a visible escape, as valid_text does.
            self._sink.write(text.encode("utf-8", "backslashreplace"))
            self._buffer.seek(0)
            self._buffer.truncate()

    def close(self) -> None:
        self._flush()


def _map_csv_cells(row: tuple[Any, ...]) -> list[Any]:
    return list(map(csv_cell, row))


# --- Parquet ----------------------------------------------------------------------------------------


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if not value.is_integer():  # also refuses NaN and infinities
            raise ValueError
        result = int(value)
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError
        result = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        result = int(value.strip())
    else:
        raise ValueError
    if not _INT64_MIN <= result <= _INT64_MAX:
        raise ValueError
    return result


def _to_float(value: Any) -> float:
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
        return float(value)
    raise ValueError


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _BOOLS:
        return _BOOLS[value.strip().lower()]
    raise ValueError


def _to_utc(value: datetime) -> datetime:
    if value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _to_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return _to_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return _to_utc(datetime.fromisoformat(value.strip()))
    raise ValueError


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return _to_utc(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            return _to_utc(datetime.fromisoformat(text)).date()
    raise ValueError


def _to_decimal_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError
        return repr(value)
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
        return decimal_text(Decimal(value.strip()))
    raise ValueError


def _to_json_text(value: Any) -> str:
    # A string is taken as JSON text already (what a source read from a json column or a file).
    return value if isinstance(value, str) else compact_json(value)


def _to_text(value: Any) -> str:
    text = text_value(value)
    if text is None:  # a non-finite float
        raise ValueError
    return valid_text(text)


# declared type → (Python types pyarrow converts exactly, coercion for anything else). Exact type
# checks on purpose: pyarrow silently truncates 1.5 into an int64 and turns bytes into a string.
_PARQUET_CONVERSIONS: dict[str, tuple[tuple[type, ...], Callable[[Any], Any]]] = {
    "string": ((str,), _to_text),
    "int64": ((int,), _to_int),
    "float64": ((float, int), _to_float),
    "bool": ((bool,), _to_bool),
    "timestamp": ((datetime,), _to_timestamp),
    "date": ((date,), _to_date),
    "decimal": ((), _to_decimal_text),
    "json": ((str,), _to_json_text),
}


def _arrow_type(pa: Any, declared: str) -> Any:
    return {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
        "decimal": pa.string(),
        "json": pa.string(),
    }[declared]


class ParquetWriter:
    """Typed columns, one row group per PARQUET_ROW_GROUP_ROWS rows, built column-wise."""

    extension = "parquet"

    def __init__(self, sink: HashingSink, columns: Sequence[str], types: Mapping[str, str]) -> None:
        import pyarrow as pa  # 55 MB: only when a Parquet export runs
        import pyarrow.parquet as pq

        self._pa = pa
        self._columns = tuple(columns)
        self._declared = tuple(types.get(column, "string") for column in self._columns)
        for column, declared in zip(self._columns, self._declared, strict=True):
            if declared not in _PARQUET_CONVERSIONS:
                raise ValueError(f"column {column!r}: unknown type {declared!r}")
        fields = []
        for column, declared in zip(self._columns, self._declared, strict=True):
            metadata = {"dsar:type": declared} if declared in ("decimal", "json") else None
            fields.append(pa.field(column, _arrow_type(pa, declared), nullable=True, metadata=metadata))
        self._schema = pa.schema(fields)
        self._arrow_types = [field.type for field in fields]
        self._writer = pq.ParquetWriter(sink, self._schema)
        self._pending: list[tuple[Any, ...]] = []

    def write_rows(self, rows: Iterable[tuple[Any, ...]]) -> int:
        written = 0
        pending = self._pending
        for row in rows:
            pending.append(row)
            written += 1
            if len(pending) >= PARQUET_ROW_GROUP_ROWS:
                self._write_group()
                pending = self._pending
        return written

    def _write_group(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        pa = self._pa
        values_by_column = list(zip(*rows, strict=True)) if self._columns else []
        arrays = [
            self._array(column, declared, arrow_type, list(values))
            for column, declared, arrow_type, values in zip(
                self._columns, self._declared, self._arrow_types, values_by_column, strict=True
            )
        ]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def _array(self, column: str, declared: str, arrow_type: Any, values: list[Any]) -> Any:
        pa = self._pa
        native, coerce = _PARQUET_CONVERSIONS[declared]
        failures = (pa.ArrowException, ValueError, TypeError, OverflowError, ArithmeticError)
        if all(value is None or type(value) in native for value in values):
            try:
                return pa.array(values, type=arrow_type)
            except failures:
                pass  # an int beyond int64, a lone surrogate: the coercion below decides
        try:
            return pa.array([None if value is None else coerce(value) for value in values], type=arrow_type)
        except failures:
            # `from None`: the original message quotes the value.
            raise ValueError(f"column {column!r}: a value cannot be converted to {declared}") from None

    def close(self) -> None:
        self._write_group()
        self._writer.close()
