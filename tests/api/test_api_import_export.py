"""Import and export through the API: multipart uploads, NDJSON progress, the limits,
the table of hostile files (each a clear answer that writes nothing), streamed exports,
and ownership."""
from __future__ import annotations

import codecs
import csv
import io
import json

import orjson
import pytest
from icalendar import Calendar

from myapp.services import export, imports

NDJSON = {"Accept": "application/x-ndjson"}


def upload(client, headers, data: bytes, name: str = "tasks.csv", query: str = "", **fields):
    return client.post(f"/api/v1/import{query}", data={"file": (io.BytesIO(data), name), **fields},
                       headers=headers, content_type="multipart/form-data")


def count(sql) -> int:
    return sql("SELECT count(*) FROM tasks")[0][0]


def test_an_import_answers_its_report(client, as_alice, sql):
    response = upload(client, as_alice, b"title,priority\nBuy milk,high\n,low\n")
    assert response.status_code == 200
    report = response.json
    assert {key: report[key] for key in ("format", "dry_run", "projects_created", "tasks_created")} == \
        {"format": "csv", "dry_run": False, "projects_created": 0, "tasks_created": 1}
    assert report["tasks_skipped"] == [{"line": 3, "reason": "Title: Title is required."}]
    assert sql("SELECT title, priority FROM tasks") == [("Buy milk", "high")]


def test_with_ndjson_it_streams_progress_then_the_report(client, as_alice):
    rows = "".join(f"Task {n}\n" for n in range(imports.BATCH + 1))
    response = upload(client, {**as_alice, **NDJSON}, f"title\n{rows}".encode())
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    lines = [orjson.loads(line) for line in response.get_data().splitlines()]
    total = imports.BATCH + 1
    assert lines[:-1] == [{"stored": 0, "total": total}, {"stored": imports.BATCH, "total": total},
                          {"stored": total, "total": total}]
    assert lines[-1]["tasks_created"] == total


def test_a_dry_run_writes_nothing(client, as_alice, sql):
    response = upload(client, as_alice, b"title,project\nA,New\n", query="?dry_run=true")
    assert (response.json["dry_run"], response.json["tasks_created"], response.json["projects_created"]) == \
        (True, 1, 1)
    assert count(sql) == 0 and sql("SELECT count(*) FROM projects") == [(1,)]


def test_the_format_can_be_named_and_a_wrong_one_is_a_422(client, as_alice, sql):
    assert upload(client, as_alice, b"title\nA\n", format="csv").json["format"] == "csv"
    response = upload(client, as_alice, b"title\nB\n", format="excel")
    assert response.status_code == 422 and "format" in response.json["details"]
    assert count(sql) == 1


@pytest.mark.parametrize("data, details", [
    ({}, {"file": "Send the file as the multipart/form-data field “file”."}),
])
def test_an_import_without_a_file_is_a_422(client, as_alice, data, details):
    response = client.post("/api/v1/import", data=data, headers=as_alice, content_type="multipart/form-data")
    assert (response.status_code, response.json["details"]) == (422, details)


def test_a_read_only_token_cannot_import(client, alice, make_token, sql):
    response = upload(client, make_token(alice, scope="read"), b"title\nA\n")
    assert response.status_code == 403 and count(sql) == 0


def test_a_file_over_50_mb_is_a_413_and_a_smaller_body_limit_does_not_apply(client, as_alice, sql):
    big = b"title\n" + b"x" * imports.MAX_BYTES
    response = upload(client, as_alice, big)
    assert (response.status_code, response.json["code"]) == (413, "PAYLOAD_TOO_LARGE")
    over_1_mb = b"title\n" + b"".join(b"Task %05d, with a longer title\n" % n for n in range(40_000))
    assert len(over_1_mb) > client.application.config["MAX_CONTENT_LENGTH"]
    assert upload(client, as_alice, over_1_mb, query="?dry_run=true").status_code == 200
    assert count(sql) == 0


def test_other_routes_keep_the_ordinary_body_limit(client, as_alice):
    response = client.post("/api/v1/tasks", data=b'{"title": "' + b"x" * 2_000_000 + b'"}', headers=as_alice,
                           content_type="application/json")
    assert response.status_code == 413


def test_more_than_50_000_tasks_is_a_422_that_names_the_limit(client, as_alice, sql):
    rows = b"".join(b"T%d\n" % n for n in range(imports.MAX_TASKS + 1))
    response = upload(client, as_alice, b"title\n" + rows)
    assert response.status_code == 422
    assert "at most 50,000" in response.json["message"] and count(sql) == 0


# --- hostile files: a clear answer, nothing half-written -------------------------------------------

def utf16(text: str, bom: bool = True) -> bytes:
    return (codecs.BOM_UTF16_LE if bom else b"") + text.encode("utf-16-le")


NESTED_ICS = ("BEGIN:VCALENDAR\r\n" + "BEGIN:VTODO\r\n" * 10_000 + "END:VTODO\r\n" * 10_000
              + "END:VCALENDAR\r\n").encode()
REFUSED = [
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "tasks.csv", "not text"),
    ("a ZIP archive (a Todoist backup)", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "backup.zip", "unzip it"),
    ("not CSV at all", b"Dear diary,\nToday I did nothing.\n", "notes.txt", "No column of this CSV is a task"),
    ("a quote never closed", b'title,description\nA,"never closed\nB,c\n', "t.csv", "Line 2 is not valid CSV"),
    ("10,000 columns", b",".join(b"c%d" % n for n in range(10_000)) + b"\nA\n", "t.csv", "10,000 columns"),
    ("10,000 nested components", NESTED_ICS, "t.ics", "nested more than"),
    ("JSON nested past any parser", b"[" * 100_000 + b"]" * 100_000, "t.json", "not valid JSON"),
    ("JSON that is no export", b'{"hello": "world"}', "t.json", "not an export"),
    ("an empty file", b"", "t.csv", "empty"),
    ("a Todoist CSV without its columns", b"TYPE,CONTENT\ntask,A\n", "t.csv", "not a Todoist CSV"),
    ("UTF-16 that is not", codecs.BOM_UTF16_LE + b"\x00\xd8", "t.csv", "UTF-16"),
]


@pytest.mark.parametrize("kind, data, name, message", REFUSED, ids=[case[0] for case in REFUSED])
def test_a_file_that_cannot_be_read_is_a_422_that_says_why_and_writes_nothing(client, as_alice, sql, kind, data,
                                                                               name, message):
    form = {"format": "todoist-csv"} if "Todoist" in kind else {}
    response = upload(client, as_alice, data, name, **form)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert message in response.json["message"] and response.json["details"] == {"file": response.json["message"]}
    assert count(sql) == 0 and sql("SELECT count(*) FROM projects") == [(1,)]


READ = [
    ("UTF-8 with a BOM", codecs.BOM_UTF8 + "title\nCafé\n".encode(), None),
    ("UTF-16 with a BOM", utf16("title\nCafé\n"), None),
    ("UTF-16 without one", utf16("title\nCafé\n", bom=False), None),
    ("Latin-1", "title\nCafé\n".encode("latin-1"), "read as Windows-1252"),
    ("CRLF lines", b"title\r\nCaf\xc3\xa9\r\n", None),
]


@pytest.mark.parametrize("kind, data, warning", READ, ids=[case[0] for case in READ])
def test_text_in_each_encoding_is_read(client, as_alice, sql, kind, data, warning):
    report = upload(client, as_alice, data).json
    assert report["tasks_created"] == 1
    assert sql("SELECT title FROM tasks") == [("Café",)]
    assert [w["message"] for w in report["warnings"] if "Windows-1252" in w["message"]] == \
        ([report["warnings"][0]["message"]] if warning else [])


SKIPPED = [
    ("a 1 MB cell", b"title,description\nA," + b"x" * 1_000_000 + b"\nB,ok\n", "Description must be at most"),
    ("a year past 9999", b"title,due date\nA,10000-01-01\nB,2030-01-01\n", "is not a date"),
    ("year zero", b"title,due date\nA,0000-01-01\nB,2030-01-01\n", "is not a date"),
    ("a 300-character title", b"title\n" + b"x" * 300 + b"\nB\n", "at most 255 characters"),
    ("an eleventh tag", b"title,tags\nA," + b" ".join(b"t%d" % n for n in range(11)) + b"\nB,\n", "At most 10 tags"),
]


@pytest.mark.parametrize("kind, data, reason", SKIPPED, ids=[case[0] for case in SKIPPED])
def test_a_line_that_breaks_a_rule_is_skipped_with_its_reason_and_the_rest_imports(client, as_alice, sql, kind,
                                                                                    data, reason):
    report = upload(client, as_alice, data).json
    assert [s["line"] for s in report["tasks_skipped"]] == [2]
    assert reason in report["tasks_skipped"][0]["reason"]
    assert sql("SELECT title FROM tasks") == [("B",)]


def test_dates_out_of_range_in_a_ticktick_backup_are_skipped(client, as_alice, sql):
    header = '"Folder Name","List Name","Title","Due Date","Is All Day","Timezone","taskId"\n'
    rows = '"","Work","A","9999-12-31T23:00:00-1200","false","","1"\n"","Work","B","","","","2"\n'
    report = upload(client, as_alice, (header + rows).encode()).json
    assert report["format"] == "ticktick-csv"
    assert [s["line"] for s in report["tasks_skipped"]] == [2]
    assert "out of range" in report["tasks_skipped"][0]["reason"]


def test_formula_text_is_stored_as_text_and_exported_so_that_spreadsheets_do_not_run_it(client, as_alice, sql):
    formula = "=cmd|' /C calc'!A0"
    upload(client, as_alice, f'title,description\n"{formula}",+SUM(A1)\n'.encode())
    assert sql("SELECT title, description FROM tasks") == [(formula, "+SUM(A1)")]
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/export.csv", headers=as_alice).get_data(as_text=True))))
    assert (rows[0]["title"], rows[0]["description"]) == ("'" + formula, "'+SUM(A1)")
    # ... and the app's own CSV reads back as the text it was
    report = upload(client, as_alice, client.get("/api/v1/export.csv", headers=as_alice).get_data(),
                    "export.csv", query="?dry_run=true").json
    assert report["tasks_existing"] == 1


# --- exports ---------------------------------------------------------------------------------------

def test_the_json_export_is_streamed_a_line_per_task_across_batches(client, as_alice, alice, make_task):
    for n in range(export.BATCH + 5):
        make_task(alice, title=f"Task {n:04}")
    response = client.get("/api/v1/export", headers=as_alice)
    assert response.is_streamed
    text = response.get_data(as_text=True)
    document = json.loads(text)
    assert set(document) == {"exported_at", "user", "projects", "tasks", "tokens"}
    assert [t["title"] for t in document["tasks"]] == [f"Task {n:04}" for n in range(export.BATCH + 5)]
    lines = text.splitlines()
    tasks = lines[lines.index('"tasks": [') + 1:lines.index('"tokens": [') - 1]
    assert len(tasks) == export.BATCH + 5 and all(line.startswith('{"id":"') for line in tasks)  # a line each


def test_an_empty_account_exports_every_section_empty(client, as_alice):
    document = client.get("/api/v1/export", headers=as_alice).json
    assert [len(document[name]) for name in ("projects", "tasks", "tokens")] == [1, 0, 1]


def test_the_csv_and_icalendar_exports_are_files_to_download(client, as_alice, alice, make_task):
    make_task(alice, title="Call, then \"write\"", tags=["a", "b"], due_date="2030-01-02", due_time="09:30",
              priority="high")
    response = client.get("/api/v1/export.csv", headers=as_alice)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="tasks-export-')
    (row,) = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    assert (row["title"], row["tags"], row["due_date"], row["due_time"], row["priority"], row["project"]) == \
        ('Call, then "write"', "a b", "2030-01-02", "09:30", "high", "Inbox")
    response = client.get("/api/v1/export.ics", headers=as_alice)
    assert response.mimetype == "text/calendar"
    (todo,) = Calendar.from_ical(response.get_data()).walk("VTODO")
    assert (str(todo["SUMMARY"]), int(todo["PRIORITY"]), todo.decoded("DUE").isoformat()) == \
        ('Call, then "write"', 1, "2030-01-02T09:30:00+00:00")


@pytest.mark.parametrize("path", ["/api/v1/export", "/api/v1/export.csv", "/api/v1/export.ics"])
def test_an_export_holds_only_my_tasks(client, as_bob, alice, bob, make_task, path):
    make_task(alice, title="Alice's secret")
    make_task(bob, title="Bob's")
    text = client.get(path, headers=as_bob).get_data(as_text=True)
    assert "Bob's" in text and "Alice's secret" not in text and str(alice.id) not in text


def test_an_import_into_my_account_never_changes_another_users_tasks(client, as_bob, alice, make_task, sql):
    task = make_task(alice, title="Alice's")
    data = json.dumps({"tasks": [{"id": str(task.id), "title": "Bob's copy", "completed": True}]}).encode()
    assert upload(client, as_bob, data, "x.json").json["tasks_created"] == 1
    assert sql("SELECT title, completed FROM tasks WHERE id = :id", id=task.id) == [("Alice's", False)]


# --- over real HTTP: the streamed answers go on after the view has returned --------------------------

def test_over_http_an_import_streams_its_progress_and_an_export_streams_it_back(server, as_alice, sql):
    import requests

    rows = "".join(f"Task {n},Project {n % 3}\n" for n in range(imports.BATCH + 1))
    response = requests.post(f"{server}/api/v1/import", files={"file": ("t.csv", f"title,project\n{rows}")},
                             headers={**as_alice, **NDJSON}, stream=True, timeout=60)
    lines = [orjson.loads(line) for line in response.iter_lines() if line]
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert [line.get("stored") for line in lines[:-1]] == [0, imports.BATCH, imports.BATCH + 1]
    assert lines[-1]["tasks_created"] == imports.BATCH + 1 and count(sql) == imports.BATCH + 1
    document = requests.get(f"{server}/api/v1/export", headers=as_alice, timeout=60).json()
    assert len(document["tasks"]) == imports.BATCH + 1 and len(document["projects"]) == 4


# --- found in review: each once a 500, or a row that broke the account -------------------------------

BROKEN = [
    ("a JSON rule that is not text", b'{"tasks": [{"id": "t1", "title": "A", "due_date": "2030-01-01", '
                                     b'"recurrence": {"rule": 5}}, {"id": "t2", "title": "B"}]}', "x.json"),
    ("a Todoist INDENT in superscript", "TYPE,CONTENT,INDENT\ntask,A,\u00b2\ntask,B,1\n".encode(), "Home.csv"),
    ("an iCalendar PRIORITY that is no number", b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:a\r\nSUMMARY:A\r\n"
     b"PRIORITY:abc\r\nEND:VTODO\r\nBEGIN:VTODO\r\nUID:b\r\nSUMMARY:B\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", "x.ics"),
    ("an iCalendar DUE that is no date", b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:a\r\nSUMMARY:A\r\n"
     b"DUE:hello\r\nEND:VTODO\r\nBEGIN:VTODO\r\nUID:b\r\nSUMMARY:B\r\nEND:VTODO\r\nEND:VCALENDAR\r\n", "x.ics"),
]


@pytest.mark.parametrize("kind, data, name", BROKEN, ids=[case[0] for case in BROKEN])
def test_a_record_with_a_value_of_the_wrong_kind_is_skipped_and_the_rest_imports(client, as_alice, sql, kind, data,
                                                                                   name):
    response = upload(client, as_alice, data, name)
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.json
    assert report["tasks_created"] + len(report["tasks_skipped"]) + len(report["warnings"]) >= 2
    assert ("B",) in sql("SELECT title FROM tasks")


def test_an_unreadable_icalendar_rule_keeps_its_task_without_recurrence(client, as_alice, sql):
    data = (b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:a\r\nSUMMARY:A\r\nDUE;VALUE=DATE:20300101\r\n"
            b"RRULE:FREQ=FOO\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
    report = upload(client, as_alice, data, "x.ics").json
    assert report["tasks_created"] == 1 and [w["line"] for w in report["warnings"]] == [2]
    assert sql("SELECT title, recurrence_rule FROM tasks") == [("A", None)]


@pytest.mark.parametrize("document", [b'{"tasks": [], "projects": 5}', b'{"tasks": [], "completions": 5}'])
def test_a_json_whose_lists_are_not_lists_is_refused(client, as_alice, document):
    response = upload(client, as_alice, document, "x.json")
    assert response.status_code == 422 and "not an export" in response.json["message"]


def test_long_and_odd_source_ids_stay_one_key_each_and_import_once(client, as_alice, sql):
    long_a, long_b = "x" * 195 + "a" * 105, "x" * 195 + "b" * 105
    document = orjson.dumps({"tasks": [{"id": long_a, "title": "A"}, {"id": long_b, "title": "B"},
                                       {"id": "c\u0000d", "title": "C"}]})
    assert upload(client, as_alice, document, "x.json").json["tasks_created"] == 3
    assert upload(client, as_alice, document, "x.json").json["tasks_created"] == 0
    assert sql("SELECT count(*) FROM tasks") == [(3,)]


@pytest.mark.parametrize("column, value", [("created_at", "9999-12-31T23:00:00-05:00"),
                                           ("created_at", "0001-01-01T00:00:00+05:00"),
                                           ("completed_at", "9999-12-31T23:00:00-05:00")])
def test_a_timestamp_out_of_range_is_left_out_and_the_account_still_reads(client, as_alice, sql, column, value):
    report = upload(client, as_alice, f"title,completed,{column}\nA,yes,{value}\n".encode()).json
    assert report["tasks_created"] == 1 and "out of range" in report["warnings"][0]["message"]
    assert client.get("/api/v1/tasks", headers=as_alice).status_code == 200
    assert client.get("/api/v1/export.csv", headers=as_alice).status_code == 200


def test_project_names_the_same_in_postgresqls_letter_case_are_one_project(client, as_alice, sql):
    report = upload(client, as_alice, "title,project\nA,\u03a3\u0391\u03a3\nB,\u03c3\u03b1\u03c3\n".encode()).json
    assert report["projects_created"] == 1
    assert sql("SELECT count(DISTINCT project_id) FROM tasks") == [(1,)]
    again = upload(client, as_alice, "title,project\nC,\u03c3\u03b1\u03c3\n".encode()).json
    assert again["projects_created"] == 0


def test_duplicate_column_names_do_not_shift_the_columns_after_them(client, as_alice, sql):
    report = upload(client, as_alice, b"note,note,title,due date\nA,B,Real title,2030-01-02\n").json
    assert report["tasks_skipped"] == []
    assert sql("SELECT title, description, due_date::text FROM tasks") == [("Real title", "A", "2030-01-02")]


def test_a_file_past_the_task_limit_is_refused_as_soon_as_it_is_seen(client, as_alice):
    vtodos = b"BEGIN:VTODO\r\nSUMMARY:x\r\nEND:VTODO\r\n" * (imports.MAX_TASKS + 1)
    response = upload(client, as_alice, b"BEGIN:VCALENDAR\r\n" + vtodos + b"END:VCALENDAR\r\n", "x.ics")
    assert response.status_code == 422 and "at most 50,000" in response.json["message"]


def test_icalendar_lines_are_counted_as_rfc_5545_breaks_them_and_folds_are_one_line(client, as_alice):
    data = ("BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:a\u2028b\r\nDESCRIPTION:x\r\n y\r\nEND:VTODO\r\n"
            "BEGIN:VTODO\r\nSUMMARY:second\r\nEND:VTODO\r\nEND:VCALENDAR\r\n").encode()
    report = upload(client, as_alice, data, "x.ics", query="?dry_run=true").json
    assert [p["line"] for p in report["preview"]] == [2, 7]
