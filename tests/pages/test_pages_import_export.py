"""The account page's export and import: the three downloads, the import form without
JavaScript (a check, then the import, each with its report), its script's stream (NDJSON
progress, then the report as HTML), CSRF, sign-in, and the route's own body limit."""
from __future__ import annotations

import io

import orjson
import pytest

from support.pages import csrf_token, post

SAMPLE = b"Task,Notes,Due Date,List\nBuy milk,Oat,2030-01-02,Errands\nPay rent,,2030-02-30,\n"


def send(client, data: bytes = SAMPLE, name: str = "tasks.csv", headers: dict | None = None, **fields):
    return post(client, "/account/import", {"file": (io.BytesIO(data), name), **fields},
                content_type="multipart/form-data", headers=headers or {})


def test_the_account_page_offers_the_three_exports_and_the_import_form(signed_in):
    page = signed_in.get("/account").get_data(as_text=True)
    for href in ('href="/account/export"', 'href="/account/export.csv"', 'href="/account/export.ics"'):
        assert href in page
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page and 'id="import-progress"' in page


@pytest.mark.parametrize("path, mimetype", [("/account/export", "application/json"),
                                            ("/account/export.csv", "text/csv"),
                                            ("/account/export.ics", "text/calendar")])
def test_each_export_downloads_as_a_file(signed_in, make_task, user, path, mimetype):
    make_task(user, title="Exported")
    response = signed_in.get(path)
    assert response.status_code == 200 and response.mimetype == mimetype
    assert response.headers["Content-Disposition"].startswith('attachment; filename="tasks-export-')
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Exported" in response.get_data(as_text=True)


@pytest.mark.parametrize("method, path", [("get", "/account/export.csv"), ("post", "/account/import")])
def test_signed_out_the_export_and_the_import_send_to_sign_in(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code in (302, 400)  # a POST without a session has no CSRF token either
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/sign-in")


def test_checking_a_file_shows_its_columns_and_first_tasks_and_writes_nothing(signed_in, sql):
    response = send(signed_in, dry_run="true")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Checked, nothing imported yet" in page and "<td>Task</td><td>title</td>" in page
    assert "<td>Buy milk</td>" in page and "Errands" in page
    assert "<td>3</td><td>The due date “2030-02-30” is not a date like 2030-01-15.</td>" in page
    assert sql("SELECT count(*) FROM tasks") == [(0,)]


def test_importing_a_file_makes_its_tasks_and_shows_the_report(signed_in, sql):
    page = send(signed_in).get_data(as_text=True)
    assert "Imported <strong>1</strong> task" in page and "1 line skipped" in page
    assert '<a href="/">See your tasks</a>' in page
    assert sql("SELECT t.title, p.name FROM tasks t JOIN projects p ON p.id = t.project_id") == [
        ("Buy milk", "Errands")]
    again = send(signed_in).get_data(as_text=True)
    assert "Imported <strong>0</strong> tasks" in again and "1 was imported before" in again


def test_a_file_that_cannot_be_read_is_shown_beside_the_field(signed_in, sql):
    response = send(signed_in, b"\x00\x01binary", "x.csv")
    assert response.status_code == 422
    assert 'id="file-error"' in response.get_data(as_text=True) and "not text" in response.get_data(as_text=True)
    response = post(signed_in, "/account/import", {}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a file to import." in response.get_data(as_text=True)


def test_the_pages_script_gets_progress_lines_then_the_report_as_html(signed_in, sql):
    response = send(signed_in, headers={"Accept": "application/x-ndjson"})
    lines = [orjson.loads(line) for line in response.get_data().splitlines()]
    assert lines[:-1] == [{"stored": 0, "total": 1}, {"stored": 1, "total": 1}]
    assert lines[-1]["report"]["tasks_created"] == 1 and 'class="import-report"' in lines[-1]["html"]
    refused = send(signed_in, b"\x00binary", headers={"Accept": "application/x-ndjson"})
    assert refused.status_code == 422 and "not text" in refused.json["details"]["file"]


def test_an_import_without_the_csrf_token_is_refused_and_writes_nothing(signed_in, sql):
    response = signed_in.post("/account/import", data={"file": (io.BytesIO(SAMPLE), "t.csv")},
                              content_type="multipart/form-data")
    assert response.status_code == 400 and sql("SELECT count(*) FROM tasks") == [(0,)]


def test_the_import_takes_files_past_the_ordinary_body_limit(signed_in, sql):
    rows = b"".join(b"Task %05d with a title long enough\n" % n for n in range(35_000))
    assert len(rows) > signed_in.application.config["MAX_CONTENT_LENGTH"]
    response = send(signed_in, b"title\n" + rows, dry_run="true")
    assert response.status_code == 200 and "35,000" in response.get_data(as_text=True)
    token = csrf_token(signed_in)
    too_big = signed_in.post("/account/password", data={"csrf_token": token, "current_password": "x" * 2_000_000})
    assert too_big.status_code == 413
