"""exports.writers: every format read back, value conversion, the CSV formula guard, Parquet's typed
columns, and the hashing sink."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exports import writers
from exports.writers import CSV_BOM, HashingSink, open_writer

COLUMNS = ("id", "email", "name", "created_at", "total")
TYPES = {"id": "int64", "created_at": "timestamp", "total": "decimal"}
PARIS_SUMMER = timezone(timedelta(hours=2))


def write(fmt, rows, columns=COLUMNS, types=None, chunk=None):
    """The file's bytes, checking the sink's own count and hash against them."""
    raw = io.BytesIO()
    sink = HashingSink(raw)
    writer = open_writer(fmt, sink, columns, TYPES if types is None else types)
    rows = list(rows)
    step = chunk or max(len(rows), 1)
    written = sum(writer.write_rows(rows[i : i + step]) for i in range(0, len(rows), step))
    writer.close()
    data = raw.getvalue()
    assert written == len(rows)
    assert sink.bytes_written == len(data) == sink.tell()
    assert sink.sha256_hex() == hashlib.sha256(data).hexdigest()
    return data


def read_csv(data):
    assert data.startswith(CSV_BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_parquet(data):
    return pq.read_table(pa.BufferReader(data))


ROW = (1, "ann@example.com", "Ann", datetime(2024, 5, 1, 9, 30, tzinfo=UTC), Decimal("12.50"))


# --- JSON and NDJSON ---------------------------------------------------------------------------------


def test_json_is_one_array_of_objects_streamed_in_chunks():
    rows = [(i, f"u{i}@example.com", f"User {i}", None, Decimal(i)) for i in range(2500)]

    data = write("JSON", rows, chunk=700)

    loaded = json.loads(data)
    assert len(loaded) == 2500
    assert loaded[0] == {
        "id": 0,
        "email": "u0@example.com",
        "name": "User 0",
        "created_at": None,
        "total": "0",
    }
    assert loaded[-1]["id"] == 2499
    assert data.startswith(b"[\n{") and data.endswith(b"}\n]\n")


@pytest.mark.parametrize("fmt", ["JSON", "NDJSON", "CSV", "PARQUET"])
def test_zero_rows_is_a_valid_file_in_every_format(fmt):
    data = write(fmt, [])

    if fmt == "JSON":
        assert json.loads(data) == []
    elif fmt == "NDJSON":
        assert data == b""
    elif fmt == "CSV":
        assert read_csv(data) == [list(COLUMNS)]
    else:
        table = read_parquet(data)
        assert table.num_rows == 0
        assert table.schema.names == list(COLUMNS)


def test_json_converts_every_kind_of_value():
    columns = ("naive", "aware", "day", "amount", "big", "blob", "flag", "ratio", "nan", "nested", "other")
    row = (
        datetime(2024, 1, 2, 3, 4, 5, 600),
        datetime(2024, 7, 1, 12, 0, tzinfo=PARIS_SUMMER),
        date(2024, 2, 29),
        Decimal("12345678901234567890.123456789012"),
        2**70,
        b"\x00\xffbinary",
        True,
        0.1,
        float("nan"),
        {"a": [1, Decimal("2.5")]},
        timedelta(days=1),
    )

    (loaded,) = json.loads(write("JSON", [row], columns=columns, types={}))

    assert loaded == {
        "naive": "2024-01-02T03:04:05.000600+00:00",
        "aware": "2024-07-01T12:00:00+02:00",
        "day": "2024-02-29",
        "amount": "12345678901234567890.123456789012",
        "big": 2**70,
        "blob": base64.b64encode(b"\x00\xffbinary").decode(),
        "flag": True,
        "ratio": 0.1,
        "nan": None,
        "nested": {"a": [1, "2.5"]},
        "other": "1 day, 0:00:00",
    }


def test_decimals_are_never_written_in_exponent_form():
    values = [Decimal("1E+3"), Decimal("1E-7"), Decimal("-0.00"), Decimal("100.10")]

    loaded = json.loads(write("JSON", [(v,) for v in values], columns=("v",), types={}))

    assert [item["v"] for item in loaded] == ["1000", "0.0000001", "-0.00", "100.10"]


def test_ndjson_is_one_compact_object_per_line():
    rows = [ROW, (2, "bo@example.com", "Bö\nline", None, Decimal("-3.10"))]

    data = write("NDJSON", rows, chunk=1)

    lines = data.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3
    assert [json.loads(line) for line in lines[:-1]] == [
        {
            "id": 1,
            "email": "ann@example.com",
            "name": "Ann",
            "created_at": "2024-05-01T09:30:00+00:00",
            "total": "12.50",
        },
        {"id": 2, "email": "bo@example.com", "name": "Bö\nline", "created_at": None, "total": "-3.10"},
    ]
    assert b", " not in lines[0] and b": " not in lines[0]


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-(2**63), max_value=2**63 - 1),
            st.text(),
            st.one_of(st.none(), st.booleans()),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        max_size=20,
    )
)
def test_json_and_ndjson_round_trip(rows):
    columns = ("i", "s", "b", "f")
    expected = [dict(zip(columns, row, strict=True)) for row in rows]

    assert json.loads(write("JSON", rows, columns=columns, types={})) == expected
    # Split on "\n" only: U+2028 and friends are valid unescaped inside JSON strings.
    ndjson = write("NDJSON", rows, columns=columns, types={}).decode()
    assert [json.loads(line) for line in ndjson.split("\n")[:-1]] == expected


# --- CSV ---------------------------------------------------------------------------------------------


def test_csv_has_a_bom_a_header_and_crlf_rows():
    data = write("CSV", [ROW, (2, None, 'say "hi", ok', None, None)])

    assert data.startswith(CSV_BOM + b"id,email,name,created_at,total\r\n")
    assert data.endswith(b"\r\n")
    assert read_csv(data) == [
        list(COLUMNS),
        ["1", "ann@example.com", "Ann", "2024-05-01T09:30:00+00:00", "12.50"],
        ["2", "", 'say "hi", ok', "", ""],
    ]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+x", "'+x"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\0x", "'\0x"),
        ("-12", "'-12"),  # a string in a text column, even if it looks like a number
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, "-5"),
        (Decimal("-1.50"), "-1.50"),
        (-2.5, "-2.5"),
        (True, "true"),
        (b"\xfb\xef", "'++8="),  # base64 text is guarded like any text
        (timedelta(days=-1), "'-1 day, 0:00:00"),
        (float("inf"), ""),
    ],
)
def test_csv_guards_text_cells_against_formulas_but_not_numbers(value, cell):
    data = write("CSV", [(value,)], columns=("v",), types={})

    assert read_csv(data)[1] == [cell]


def test_csv_leaves_numeric_strings_in_numeric_columns_unprefixed():
    columns = ("amount", "count", "note")
    types = {"amount": "decimal", "count": "int64"}

    data = write("CSV", [("-12.50", "-3", "-3"), ("-1+cmd", "=2", "x")], columns=columns, types=types)

    assert read_csv(data)[1:] == [["-12.50", "-3", "'-3"], ["'-1+cmd", "'=2", "x"]]


def test_csv_guards_the_header_too():
    assert read_csv(write("CSV", [], columns=("=cmd", "ok"), types={})) == [["'=cmd", "ok"]]


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_csv_round_trips_any_text_apart_from_the_guard_prefix(values):
    columns = tuple(f"c{i}" for i in range(len(values)))

    (_, cells) = read_csv(write("CSV", [tuple(values)], columns=columns, types={}))

    for value, cell in zip(values, cells, strict=True):
        if value.startswith(("=", "+", "-", "@", "\t", "\r", "\0")):
            assert cell == "'" + value
        else:
            assert cell == value


# --- Parquet -----------------------------------------------------------------------------------------

ALL_TYPES = {
    "s": "string",
    "i": "int64",
    "f": "float64",
    "b": "bool",
    "ts": "timestamp",
    "d": "date",
    "dec": "decimal",
    "j": "json",
}


def test_parquet_has_typed_columns():
    columns = (*ALL_TYPES, "untyped")
    row = (
        "Zoë",
        -7,
        1.25,
        True,
        datetime(2024, 7, 1, 12, 0, tzinfo=PARIS_SUMMER),
        date(2024, 2, 29),
        Decimal("12345678901234567890.123456789012"),
        {"a": [1, 2]},
        42,
    )

    table = read_parquet(write("PARQUET", [row, (None,) * len(columns)], columns=columns, types=ALL_TYPES))

    schema = table.schema
    assert schema.field("s").type == pa.string()
    assert schema.field("i").type == pa.int64()
    assert schema.field("f").type == pa.float64()
    assert schema.field("b").type == pa.bool_()
    assert schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert schema.field("d").type == pa.date32()
    assert schema.field("dec").type == pa.string()
    assert schema.field("j").type == pa.string()
    assert schema.field("untyped").type == pa.string()
    assert schema.field("dec").metadata == {b"dsar:type": b"decimal"}
    assert schema.field("j").metadata == {b"dsar:type": b"json"}
    first, second = table.to_pylist()
    assert first == {
        "s": "Zoë",
        "i": -7,
        "f": 1.25,
        "b": True,
        "ts": datetime(2024, 7, 1, 10, 0, tzinfo=UTC),
        "d": date(2024, 2, 29),
        "dec": "12345678901234567890.123456789012",
        "j": '{"a":[1,2]}',
        "untyped": "42",
    }
    assert set(second.values()) == {None}


def test_parquet_converts_text_from_file_sources_to_the_declared_types():
    row = (" text ", "42", "2.5", "yes", "2024-05-01T09:30:00Z", "2024-05-01", "1E+2", '{"k": 1}')
    naive = (
        b"\x01",
        3.0,
        2,
        0,
        datetime(2024, 5, 1, 9, 30),
        datetime(2024, 5, 1, 23, 30, tzinfo=PARIS_SUMMER),
        7,
        [1],
    )

    rows = read_parquet(write("PARQUET", [row, naive], columns=tuple(ALL_TYPES), types=ALL_TYPES)).to_pylist()

    assert rows[0] == {
        "s": " text ",
        "i": 42,
        "f": 2.5,
        "b": True,
        "ts": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        "d": date(2024, 5, 1),
        "dec": "100",
        "j": '{"k": 1}',
    }
    assert rows[1] == {
        "s": "AQ==",
        "i": 3,
        "f": 2.0,
        "b": False,
        "ts": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        "d": date(2024, 5, 1),
        "dec": "7",
        "j": "[1]",
    }


@pytest.mark.parametrize(
    ("declared", "value"),
    [
        ("int64", "4111-1111-SECRET"),
        ("int64", 1.5),  # pyarrow alone would truncate it to 1
        ("int64", 2**64),
        ("float64", "SECRET"),
        ("bool", "SECRET"),
        ("timestamp", "SECRET-2024"),
        ("date", "SECRET-2024"),
        ("decimal", "SECRET"),
        ("decimal", True),
        ("string", float("nan")),
    ],
)
def test_parquet_refuses_a_value_it_cannot_convert_without_naming_the_value(declared, value):
    raw = io.BytesIO()
    writer = open_writer("PARQUET", HashingSink(raw), ("ok", "card"), {"ok": "int64", "card": declared})
    writer.write_rows([(1, value)])

    with pytest.raises(ValueError, match=f"column 'card'.*{declared}") as caught:
        writer.close()

    assert "SECRET" not in str(caught.value)
    assert str(value) not in str(caught.value)
    assert caught.value.__suppress_context__


def test_parquet_writes_row_groups_of_32k_rows():
    rows = [(i, "e", "n", datetime(2024, 1, 1, tzinfo=UTC), Decimal(i)) for i in range(70_000)]

    data = write("PARQUET", rows, chunk=5000)

    metadata = pq.ParquetFile(pa.BufferReader(data)).metadata
    assert metadata.num_rows == 70_000
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [32768, 32768, 4464]
    assert read_parquet(data).column("total").to_pylist()[-1] == "69999"


def test_parquet_buffers_only_the_current_row_group():
    raw = io.BytesIO()
    writer = open_writer("PARQUET", HashingSink(raw), ("v",), {"v": "int64"})

    writer.write_rows([(i,) for i in range(writers.PARQUET_ROW_GROUP_ROWS + 10)])

    assert raw.tell() > 0  # the first group is already out
    assert len(writer._pending) == 10


# --- the sink and the interface ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JSON", "NDJSON", "CSV", "PARQUET"])
def test_the_sink_hash_matches_the_extracted_zip_entry(tmp_path, fmt):
    path = tmp_path / "b.zip"
    rows = [
        (i, f"u{i}@example.com", "Ünïcode", datetime(2024, 1, 1, tzinfo=UTC), Decimal("-1.1"))
        for i in range(3000)
    ]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(f"data/x.{fmt.lower()}", "w") as raw:
            sink = HashingSink(raw)
            writer = open_writer(fmt, sink, COLUMNS, TYPES)
            writer.write_rows(rows)
            writer.close()
            sink.close()
        assert sink.closed

    with zipfile.ZipFile(path) as archive:
        extracted = archive.read(f"data/x.{fmt.lower()}")
    assert sink.sha256_hex() == hashlib.sha256(extracted).hexdigest()
    assert sink.bytes_written == len(extracted)
    assert writer.extension == fmt.lower()


def test_a_closed_sink_refuses_writes():
    sink = HashingSink(io.BytesIO())
    sink.write(memoryview(b"abc"))
    sink.close()

    assert sink.bytes_written == 3
    with pytest.raises(ValueError, match="closed"):
        sink.write(b"x")


def test_open_writer_takes_any_case_and_refuses_unknown_formats():
    assert open_writer("ndjson", HashingSink(io.BytesIO()), ("a",), {}).extension == "ndjson"
    with pytest.raises(ValueError, match="unknown export format"):
        open_writer("XML", HashingSink(io.BytesIO()), ("a",), {})


def test_text_values_are_the_same_in_every_text_format():
    value = datetime(2024, 1, 2, 3, 4, 5, 600)

    assert (
        writers.text_value(value)
        == json.loads(writers.compact_json(value))
        == "2024-01-02T03:04:05.000600+00:00"
    )
    assert writers.text_value(float("-inf")) is None


@pytest.mark.parametrize("fmt", ["JSON", "NDJSON", "CSV", "PARQUET"])
def test_a_lone_surrogate_is_escaped_into_valid_utf8(fmt):
    data = write(fmt, [("bad\udcff name", {"k": "\udcff"})], columns=("s", "j"), types={"j": "json"})

    if fmt == "PARQUET":
        assert read_parquet(data).to_pylist() == [{"s": "bad\\udcff name", "j": '{"k":"\\udcff"}'}]
    elif fmt == "CSV":
        assert read_csv(data)[1] == ["bad\\udcff name", '{"k":"\\udcff"}']
    else:
        # Valid UTF-8; nested in JSON the surrogate is a JSON escape, which parsers read back as is.
        loaded = json.loads(data.decode("utf-8").split("\n")[1 if fmt == "JSON" else 0])
        assert loaded == {"s": "bad\\udcff name", "j": {"k": "\udcff"}}
