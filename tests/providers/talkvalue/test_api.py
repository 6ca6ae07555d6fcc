"""TalkValue's requests against the sandbox over real HTTP: CSV upload, analyze, import, failed export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import importbridge
from importbridge import AuthenticationError, ConfigurationError, JobNotFound, JobState, ProviderError

pytestmark = pytest.mark.importbridge_sandbox(rate_limit=None)

FAST = importbridge.RetryPolicy(base=0.01, cap=0.05, sleep=lambda _: None)


@pytest.fixture
def talkvalue(importbridge_sandbox) -> Iterator[importbridge.ImportClient]:
    with importbridge.connect(
        "talkvalue", retry=FAST, **importbridge_sandbox.settings("talkvalue")
    ) as client:
        yield client


def people(n: int, bad: dict[int, str] | None = None) -> list[dict[str, str]]:
    rows = [{"email": f"p{i}@example.com", "first_name": f"P{i}", "company": "Acme"} for i in range(1, n + 1)]
    for number, email in (bad or {}).items():
        rows[number - 1]["email"] = email
    return rows


def finished(
    client: importbridge.ImportClient, sb: importbridge.sandbox.Sandbox, job_id: str
) -> importbridge.ImportJob:
    sb.clock.advance(3600)
    return client.get(job_id)


def test_a_clean_import_completes(talkvalue, importbridge_sandbox) -> None:
    job = talkvalue.submit(people(20), source_id=7)
    assert job.id
    assert job.mode == "UPDATE"
    done = finished(talkvalue, importbridge_sandbox, job.id)
    assert (done.state, done.created, done.failed) == (JobState.COMPLETE, 20, 0)
    assert list(talkvalue.failed_rows(done)) == []
    assert importbridge_sandbox.state()["talkvalue"]["records"] == 20


def test_bad_emails_stream_out_of_the_failed_export(talkvalue, importbridge_sandbox) -> None:
    job = talkvalue.submit(people(30, bad={4: "nope", 17: ""}), source_id=7)
    done = finished(talkvalue, importbridge_sandbox, job.id)
    assert (done.state, done.failed) == (JobState.PARTIAL, 2)
    failed = list(talkvalue.failed_rows(done))
    assert [(row.row, row.error.code) for row in failed] == [(4, "INVALID_EMAIL"), (17, "MISSING_EMAIL")]
    assert [row.data for row in failed] == ["nope", ""]  # the raw value, as for failedRows
    assert all(row.outcome.value == "failed" for row in failed)


def test_skip_mode_counts_matches_as_skipped(talkvalue, importbridge_sandbox) -> None:
    first = talkvalue.submit(people(3), source_id=1)
    finished(talkvalue, importbridge_sandbox, first.id)
    again = talkvalue.submit(people(3), source_id=1, mode="skip")
    done = finished(talkvalue, importbridge_sandbox, again.id)
    assert (done.mode, done.skipped, done.created) == ("SKIP", 3, 0)


def test_column_mappings(talkvalue, importbridge_sandbox) -> None:
    rows = [{"Work Email": "a@example.com", "notes": "vip", "Name": "Ann"}]
    with pytest.raises(ConfigurationError, match="'Work Email', 'notes'"):
        talkvalue.submit(rows, source_id=1)
    job = talkvalue.submit(rows, source_id=1, column_mappings={"Work Email": "EMAIL", "notes": None})
    assert finished(talkvalue, importbridge_sandbox, job.id).created == 1
    with pytest.raises(ConfigurationError, match="unknown target fields"):
        talkvalue.submit(rows, source_id=1, column_mappings={"Work Email": "E-MAIL"})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "source_id"),
        ({"source_id": "x"}, "source_id"),
        ({"source_id": 1, "mode": "MERGE"}, "mode"),
        ({"source_id": 1, "table": "t"}, "unknown submit option"),
    ],
)
def test_options_are_checked_before_sending(talkvalue, importbridge_sandbox, options, message) -> None:
    with pytest.raises(ConfigurationError, match=message):
        talkvalue.submit(people(1), **options)
    with pytest.raises(ConfigurationError, match="at least one row"):
        talkvalue.submit([], source_id=1)
    assert importbridge_sandbox.state()["talkvalue"]["files_analyzed"] == 0


def test_errors_are_problem_details(talkvalue, importbridge_sandbox) -> None:
    with pytest.raises(JobNotFound):
        talkvalue.get("999999")
    settings = importbridge_sandbox.settings("talkvalue") | {"token": "wrong"}
    with (
        importbridge.connect("talkvalue", **settings) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.submit(people(1), source_id=1)
    assert caught.value.code


def test_problem_detail_parsing() -> None:
    from importbridge_talkvalue import api

    problem = {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "sourceId is required",
        "errorCode": "INVALID_BODY",
        "messageKey": "error.invalidBody",
    }
    assert api.error_message(400, problem) == ("sourceId is required", "INVALID_BODY")
    assert api.error_message(401, {"title": "Unauthorized", "messageKey": "error.unauthorized"}) == (
        "Unauthorized",
        "error.unauthorized",
    )
    assert api.error_message(502, "<html>bad gateway</html>") == ("<html>bad gateway</html>", None)


# -- the pieces: export parsing and the streamed multipart body ------------------------------

cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)


@given(st.lists(st.tuples(st.integers(1, 10**6), cells, cells, cells, cells), max_size=30))
def test_export_rows_round_trip(rows) -> None:

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rowNum", "errorCode", "errorMessage", "rawValue", "email"])
    writer.writerows(rows)
    parsed = parse(out.getvalue())
    assert [(r.row, r.error.code or "", r.error.message or "", r.data) for r in parsed] == [
        (n, code, message, raw) for n, code, message, raw, _ in rows
    ]


def parse(text: str, sizes: list[int] | None = None) -> list[importbridge.RowResult]:
    """Every row ``ExportParser`` reads from ``text`` fed in blocks of ``sizes`` (one block: None)."""
    from importbridge_talkvalue.export import ExportParser

    body = text.encode("utf-8")
    parser = ExportParser()
    rows = [row for block in in_blocks(body, sizes or [len(body) or 1]) for row in parser.feed(block)]
    rest, _ = parser.close()
    return rows + rest


def test_export_columns_are_found_by_name() -> None:
    lines = ["row_number,error_code,error_message,raw_value", "3,INVALID_EMAIL,bad,x@@y", "x,,,", ""]
    (first, second) = parse("\n".join(lines))
    assert (first.row, first.error.code, first.data) == (3, "INVALID_EMAIL", "x@@y")
    assert (second.row, second.error.code, second.data) == (None, None, "")
    reordered = ["email,Error Message,ROWNUM,-1", "a@b,too short,9", ""]  # short row, no code, no raw value
    (only,) = parse("\r\n".join(reordered))
    assert (only.row, only.error.code, only.error.message, only.data) == (9, None, "too short", None)


@given(st.binary(max_size=5000), st.lists(st.integers(1, 700), min_size=1, max_size=50))
def test_the_multipart_body_reads_the_same_in_any_block_sizes(content, sizes) -> None:
    from importbridge_talkvalue.upload import MultipartFile

    body = MultipartFile("file", "a.csv", io.BytesIO(content), len(content), "text/csv")
    whole = body.read()
    assert len(whole) == len(body)
    assert content in whole
    body.seek(0)
    pieces = []
    for size in sizes * (len(whole) // max(sum(sizes), 1) + 1):
        pieces.append(body.read(size))
    pieces.append(body.read())
    assert b"".join(pieces) == whole


def test_the_provider_refuses_a_wrong_file_key(talkvalue) -> None:
    with pytest.raises(ProviderError) as caught:
        talkvalue.connection.transport.request(
            "POST", "/path/import", json={"fileKey": "nope", "sourceId": 1}
        )
    assert caught.value.status in (400, 404)


@given(st.lists(st.tuples(st.one_of(st.integers(0, 10**9), st.just(""), st.just("-3")), cells, cells, cells)))
def test_export_rows_equal_rows_built_the_validated_way(rows) -> None:

    out = io.StringIO()
    csv.writer(out).writerows([["rowNum", "errorCode", "errorMessage", "rawValue"], *rows])
    parsed = parse(out.getvalue())
    expected = [
        importbridge.RowResult(
            row=number if isinstance(number, int) else None,
            outcome=importbridge.RowOutcome.FAILED,
            error=importbridge.JobError(code=code or None, message=message or None),
            data=raw,
        )
        for number, code, message, raw in rows
    ]
    assert parsed == expected
    job = dict(provider="talkvalue", state=importbridge.JobState.FAILED, provider_state="FAILED")
    assert importbridge.to_dict(importbridge.ImportJob(**job, rows=parsed)) == importbridge.to_dict(
        importbridge.ImportJob(**job, rows=expected)
    )


EXPORT = "/talkvalue/path/import/*/failed/export"


@pytest.mark.parametrize(
    "faults", [["truncated"], ["reset_after"], ["truncated", "reset_before"], ["500", "truncated"]]
)
def test_a_broken_off_export_resumes_without_losing_or_repeating_rows(
    talkvalue, importbridge_sandbox, faults
) -> None:
    rows = people(300, bad={n: f"bad-{n}" for n in range(1, 301, 3)})
    job = finished(talkvalue, importbridge_sandbox, talkvalue.submit(rows, source_id=1).id)
    clean = [(row.row, row.data) for row in talkvalue.failed_rows(job)]
    assert len(clean) == job.failed == 100
    for kind in faults:
        importbridge_sandbox.faults.script(kind=kind, method="GET", path=EXPORT)
    assert [(row.row, row.data) for row in talkvalue.failed_rows(job)] == clean


def test_an_export_that_keeps_breaking_is_an_error_not_a_short_list(talkvalue, importbridge_sandbox) -> None:
    job = finished(
        talkvalue, importbridge_sandbox, talkvalue.submit(people(50, bad={7: "x"}), source_id=1).id
    )
    importbridge_sandbox.faults.script(kind="truncated", method="GET", path=EXPORT, times=3)
    with pytest.raises(importbridge.TransportError, match="broke off 3 times"):
        list(talkvalue.failed_rows(job))


def test_a_submit_is_found_again_by_its_request_id(talkvalue) -> None:
    from importbridge_talkvalue import api

    job = talkvalue.submit(people(2), source_id=1, request_id="batch-0007", file_name="weekly.csv")
    assert job.file_name == "weekly-batch-0007.csv"
    found = talkvalue.provider.find_submit(talkvalue.connection, "batch-0007")
    assert found is not None
    assert found.id == job.id
    assert talkvalue.provider.find_submit(talkvalue.connection, "batch-0008") is None
    assert api.upload_name(None, None) == "importbridge.csv"


def test_a_lost_import_answer_says_how_to_find_the_import(importbridge_sandbox) -> None:
    sb = importbridge_sandbox
    sb.faults.script(kind="reset_after", method="POST", path="/talkvalue/path/import")
    with importbridge.connect("talkvalue", retry=FAST, **sb.settings("talkvalue")) as client:
        with pytest.raises(importbridge.SubmitOutcomeUnknown, match=r"weekly-r-17\.csv") as caught:
            client.submit(people(2), source_id=1, file_name="weekly", request_id="r-17")
        assert caught.value.request_id == "r-17"
        found = client.provider.find_submit(client.connection, "r-17")
    assert found is not None  # the import had been created; only its answer was lost
    assert sb.state()["talkvalue"]["imports"] == 1


@st.composite
def quoted_exports(draw: st.DrawFn) -> str:
    """Records written with every cell quoted (``csv.QUOTE_ALL``), in any line break, of any
    widths, with cells that hold quotes, commas and line breaks, sometimes a few characters changed:
    whole blocks of such lines are split at their quotes, the rest read by csv.reader."""
    cell = st.one_of(st.integers(-2, 99).map(str), st.text(alphabet=st.sampled_from('1a,"\r\n '), max_size=3))
    records = draw(st.lists(st.lists(cell, max_size=6), max_size=12))
    out = io.StringIO()
    breaks = st.sampled_from(["\r\n", "\n", "\r"])
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=draw(breaks)).writerows(records)
    text = out.getvalue()
    for _ in range(draw(st.integers(0, 3)) if text else 0):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(['"', ",", "\r", "\n", "a", ""])) + text[at + 1 :]
    return text


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


#: cells as exporters write them and as they go wrong: plain, quoted (holding commas), quoted
#: holding quotes or line breaks (escaped), and with text around the quotes
export_cell = st.one_of(
    st.integers(-2, 99).map(str),
    st.text(alphabet=st.sampled_from("1a "), max_size=3),
    st.text(alphabet=st.sampled_from("1a, "), max_size=3).map(_quoted),
    st.text(alphabet=st.sampled_from('1a,"\r\n'), max_size=3).map(_quoted),
    st.tuples(
        st.sampled_from(["", " ", "a", '"']),
        st.text(alphabet=st.sampled_from("1a, "), max_size=3),
        st.sampled_from(["", " ", "a", '"', '""a']),
    ).map(lambda around: f'{around[0]}"{around[1]}"{around[2]}'),
)


@st.composite
def mixed_exports(draw: st.DrawFn) -> str:
    """Lines of cells (``export_cell``), in any line break: plain lines and lines with quoted
    cells mix, as in an export that quotes only cells holding commas. The lines without a quote
    are split at commas, the others found and read by one csv.reader, which must read one
    record from each (else it reads the whole block)."""
    lines = draw(st.lists(st.lists(export_cell, min_size=1, max_size=6).map(",".join), max_size=12))
    end = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    return "".join(line + end for line in lines)


export_text = st.one_of(  # with and without quotes: plain text takes the split-on-commas path
    st.text(alphabet=st.sampled_from('a,"é\r\n\x00\x0b\u2028 '), max_size=300),
    st.text(alphabet=st.sampled_from("a,é\r\n\x0b\u2028 "), max_size=300),
    # row numbers that read (or not: negative, empty) amid quoted and plain records
    st.text(alphabet=st.sampled_from('17-,,"a\r\n\n'), max_size=300),
    quoted_exports(),
    mixed_exports(),
)
block_sizes = st.lists(st.integers(1, 40), min_size=1, max_size=20)


def in_blocks(body: bytes, sizes: list[int]) -> list[bytes]:
    blocks, start = [], 0
    for size in sizes * (len(body) // sum(sizes) + 1):
        blocks.append(body[start : start + size])
        start += size
    return blocks


HEADER = "rowNum,errorCode,errorMessage,rawValue\r\n"


def reference(text: str) -> list[importbridge.RowResult]:
    """The rows csv.reader reads from a whole export that ends at a line end, built the slow way."""
    rows = []
    for record in list(csv.reader(io.StringIO(text, newline="")))[1:]:
        if not record:
            continue
        number, code, message, raw = ([*record, "", "", "", ""])[:4]
        try:
            row = int(number)
        except ValueError:
            row = None
        error = importbridge.JobError(code=code or None, message=message or None)
        rows.append(
            importbridge.RowResult(
                row=row if row is None or row >= 0 else None,
                outcome=importbridge.RowOutcome.FAILED,
                error=error,
                data=raw,
            )
        )
    return rows


def outcome(read):
    try:
        return read()
    except csv.Error:
        return "csv.Error"


@given(export_text, block_sizes)
def test_the_export_parser_reads_what_csv_reader_reads_in_any_blocks(text, sizes) -> None:
    """Plain blocks are split on commas, the rest read by csv.reader: the rows are the same,
    in any blocks, and only text up to the last line break is read."""
    assert_read_as_csv_reader_reads(text, sizes)


@given(mixed_exports(), block_sizes)
def test_lines_with_quoted_cells_read_as_csv_reader_reads_them_in_any_blocks(text, sizes) -> None:
    """Plain lines split at commas and the lines with a quote read by csv.reader, put back
    in their places: the rows are the same, in any blocks."""
    assert_read_as_csv_reader_reads(text, sizes)


@st.composite
def long_mixed_exports(draw: st.DrawFn) -> str:
    """Up to 60 lines, each ended by its own line break (``\\r\\n``, ``\\n`` or ``\\r``), blank
    lines among them, a few or most holding a quote: read in one block, the quoted lines' places
    are found among many plain ones, and past 16 of them every line goes through csv.reader."""
    plain = st.lists(st.integers(0, 99).map(str), min_size=1, max_size=5).map(",".join)
    quoted = st.lists(export_cell, min_size=1, max_size=5).map(",".join)
    line = st.one_of(plain, plain, plain, quoted, st.just(""))
    ends = st.sampled_from(["\r\n", "\n", "\r"])
    return "".join(draw(line) + draw(ends) for _ in range(draw(st.integers(0, 60))))


@given(long_mixed_exports(), st.sampled_from([[10**6], [500, 37], [4096]]))
def test_long_blocks_of_mixed_lines_read_as_csv_reader_reads_them(text, sizes) -> None:
    assert_read_as_csv_reader_reads(text, sizes)


def assert_read_as_csv_reader_reads(text: str, sizes: list[int]) -> None:
    from importbridge_talkvalue.export import ExportParser

    text = HEADER + text
    body = text.encode("utf-8")
    parser = ExportParser()
    fed = outcome(lambda: [row for block in in_blocks(body, sizes) for row in parser.feed(block)])
    if fed == "csv.Error":
        assert outcome(lambda: reference(text)) == "csv.Error"
        return
    rest, whole = parser.close()
    assert whole == text.endswith(("\n", "\r"))
    complete = text[: max(text.rfind("\n"), text.rfind("\r")) + 1]
    assert fed + rest == reference(complete)
    assert parser.rows == len(fed) + len(rest)


@given(st.lists(st.tuples(cells, cells, cells), max_size=20), block_sizes)
def test_quoted_cells_with_line_breaks_arrive_whole_in_any_blocks(rows, sizes) -> None:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["rowNum", "errorCode", "errorMessage", "rawValue"])
    writer.writerows([(n, code, f"{message}\nline two", raw) for n, (code, message, raw) in enumerate(rows)])
    parsed = parse(out.getvalue(), sizes)
    assert [(r.row, r.error.message, r.data) for r in parsed] == [
        (n, f"{message}\nline two", raw) for n, (_, message, raw) in enumerate(rows)
    ]


@pytest.mark.parametrize(
    "body",
    [
        '"1","E","m","x"\r\n"2","E","m, with a comma","y"\r\n',  # every cell quoted: split at quotes
        '"1","E","m","x"\n"2","E","line\r\nbreak","y"\n',  # a cell's line break is the cell's
        'a"1","E","m","x"\r\n',  # text before the first quote: csv.reader reads it unquoted
        '"1","E","m","x"\r\n"2","E"\r\n"3","E","m","x","5","6"\r\n',  # ragged lines, same count
        '"1","E","m","x"\r\n"2","E","m","x"\n',  # two kinds of line break
        '"1","E","m""q","x"\r\n',  # an escaped quote
        '"1","E","m","x"\r\n\r\n"2","E","m","x"\r\n',  # a blank line
        '"1","E","m","x" \r\n"2","E","m","x"\r\n',  # a space after a closing quote
        '"1","E"\r\n"2","E"\r\n',  # fewer cells than the columns
        '"1","E","m","x"\r\n"2","E","m","x"\r\n"3"\r\n',  # a last line shorter
        '"1","E","m","x"\r\n"7\r\n","E","m","x"\r\n',  # a block may end in a quoted cell
        '"1","E","m","x"\r\n"a\r\nb","E","m","x"\r\n',
        # lines with a quote amid plain lines: found, read by one csv.reader, put in place
        '1,E,m,x\r\n2,E,"m, with a comma",y\r\n3,E,m,x\r\n',
        '1,E,m,x\n"2",E,"m, 1","y,2"\n3,E,m,x\n"2",E,"m, 1","y,2"\n',  # a line twice: found in order
        '1,E,"m, 1",\r\n2,,"",x\r\n3,"",,"x"\r\n',  # empty cells and empty quoted cells
        '1,E,m,x\r\n2,E,"m ""q"", 1",y\r\n',  # an escaped quote
        '1,E,m,x\r\n2,E,"m, 1" ,y\r\n',  # a space after a closing quote
        '1,E,m,x\r\n2,E,"m, 1"z,y\r\n',  # text after a closing quote
        '1,E,m,x\r\n2,E,m "q",y\r\n',  # a quote inside an unquoted cell
        '1,E,m,x\r\n2,E,m",y\r\n',  # a lone quote: csv.reader reads it as a character
        '1,E,m,x\r\n2,E, "m, 1",y\r\n',  # a space before an opening quote
        '1,E,m,x\r\n2,E,"m\r\n1",y\r\n3,E,m,x\r\n',  # a quoted line break: csv.reader reads the block
        '1,E,m,x\n2,E,"m, 1",y\r3,E,"m,\r\n",x\r\n',  # line breaks of every kind
        '1,E,m,x\r2,E,"m, 1",y\r\n1,E,m,x\r\n',  # a line ended by CR alone before a quoted one
        '1,"E",m,x\r\n' * 20 + '2,E,"m, 1",y\r\n',  # most lines quoted: csv.reader reads the block
        '"1",E,"m, 1"\r\n',  # a short record: padded, row by row
        # records of other lengths whose cells add up to whole records: not read as columns
        '1,E,"m, 1",x,a,5\r\n2,E,m,x\r\n',  # a long quoted line, a line with the columns read only
        '1,E,m,x,a,3,F\r\n"2\r\n",E,m\r\n',  # read by csv.reader: a long record, a short one
    ],
)
def test_blocks_of_quoted_lines_read_as_csv_reader_reads_them(body: str) -> None:
    text = HEADER + body
    for size in range(1, 65):
        assert parse(text, [size]) == reference(text), size
    assert parse(text) == reference(text)


@pytest.mark.parametrize("quote", [False, True])
@pytest.mark.parametrize("lines", [1, 40])
def test_a_role_without_a_column_reads_empty_even_where_a_record_runs_long(quote: bool, lines: int) -> None:
    """No error-code column: every row's code is empty, also where a record has more cells than
    the header (a ragged export), whichever way its block is read (split, all quoted, row by row)."""
    header = "rowNum,errorMessage,rawValue"
    cells = [[str(n), f"bad {n}", f"raw {n}", "EXTRA"] for n in range(1, lines + 1)]
    body = [",".join(f'"{cell}"' if quote else cell for cell in record) for record in cells]
    rows = parse("\n".join([header, *body, ""]))
    assert [(row.row, row.error.code, row.error.message, row.data) for row in rows] == [
        (n, None, f"bad {n}", f"raw {n}") for n in range(1, lines + 1)
    ]
