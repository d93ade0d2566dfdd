"""Import in Chromium: a file chosen on the account page is checked (its columns and first
tasks shown, nothing written), then imported with a real progress bar (the upload's own
progress, then the server's as the rows are stored) and its report."""
from __future__ import annotations

import re

import pytest

from myapp.services import imports

from support.browser import assert_fits, expect, sign_in
from support.pages import PASSWORD

pytestmark = pytest.mark.browser
ROWS = imports.BATCH + 500  # two batches: a progress step between them


@pytest.mark.parametrize("width", [1280, 375])
def test_a_file_is_checked_then_imported_with_its_progress_and_report(open_page, screenshots, make_user, sql,
                                                                      tmp_path, width):
    user = make_user(f"import-{width}@example.com", PASSWORD)
    path = tmp_path / "tasks.csv"
    path.write_text("Task,List,Due Date\n" + "".join(f"Task {n},Home,2030-01-{n % 28 + 1:02}\n" for n in range(ROWS))
                    + "Broken,Home,2030-02-30\n")
    page = open_page(width)
    sign_in(page, user.email)
    page.goto("/account#import")
    form = page.locator("#import-form")
    form.get_by_label("File").set_input_files(path)
    form.get_by_role("button", name="Check").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text(f"would make {ROWS:,} tasks and 1 project")
    expect(report.locator("table").first).to_contain_text("Task")
    expect(report).to_contain_text("The due date “2030-02-30” is not a date")
    assert sql("SELECT count(*) FROM tasks") == [(0,)]

    # Every text the progress label shows, as it changes.
    page.evaluate("""() => {
        window.progressTexts = [];
        const label = document.getElementById("import-progress-label");
        new MutationObserver(() => window.progressTexts.push(label.textContent))
            .observe(label, {childList: true, characterData: true, subtree: true});
    }""")
    form.get_by_role("button", name="Import").click()
    expect(report).to_contain_text(f"Imported {ROWS:,} tasks and 1 new project")
    expect(page.locator("#import-progress")).to_be_hidden()
    texts = page.evaluate("window.progressTexts")
    assert any(text.startswith("Uploading") for text in texts), texts
    # The server's steps as the rows are stored, in order. Chromium fires an XHR's progress
    # at most every 50 ms, so steps that arrive together show as the last of them.
    step = re.compile(rf"Storing… ([\d,]+) of {ROWS:,} tasks")
    stored = [int(m[1].replace(",", "")) for text in texts if (m := step.fullmatch(text))]
    assert stored and stored == sorted(stored), texts
    assert sql("SELECT count(*) FROM tasks") == [(ROWS,)]
    assert_fits(page)
    page.screenshot(path=screenshots / f"import-{width}.png", full_page=False, animations="disabled")
