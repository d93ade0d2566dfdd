"""TEMPORARY review harness (delete before finishing)."""
from __future__ import annotations

import json
import traceback

import pytest

from myapp import exports
from myapp.errors import ValidationError
from myapp.services import export, imports, tasks

import sys
sys.path.insert(0, '/tmp/review2')
from cases_zz_review2 import CASES  # noqa: E402


def consume(user, data, filename, fmt=None, dry_run=False, tz="UTC"):
    *progress, report = imports.import_file(user.id, data, filename, format=fmt, dry_run=dry_run, tz=tz)
    return report


def reads(user_id, tz="UTC"):
    for sort in ("newest", "oldest", "due", "priority", "title"):
        page = tasks.list_tasks(user_id, {"sort": sort, "limit": "2"})
        # follow a cursor too (keys of odd rows as text)
        if page.next_cursor:
            tasks.list_tasks(user_id, {"sort": sort, "limit": "2", "cursor": page.next_cursor})
        tasks.list_tasks(user_id, {"sort": sort})
    j = b"".join(exports.json_chunks(export.export_records(user_id)))
    json.loads(j)
    c = "".join(exports.csv_chunks(export.export_records(user_id)))
    i = b"".join(exports.ics_chunks(export.export_records(user_id), "UTC"))
    i2 = b"".join(exports.ics_chunks(export.export_records(user_id), "Pacific/Kiritimati"))
    return j, c, i


@pytest.mark.parametrize("name", list(CASES))
def test_case(name, alice, make_user):
    data, filename, fmt, tz = CASES[name]
    if callable(data):
        data = data(alice, make_user)
    out = [f"=== {name}"]
    stage = "dry"
    try:
        try:
            dry = consume(alice, data, filename, fmt, True, tz)
        except ValidationError as e:
            out.append(f"  422 (dry): {e.details}")
            print("\n".join(out))
            return
        stage = "real"
        real = consume(alice, data, filename, fmt, False, tz)
        if {**dry, "dry_run": False} != real:
            out.append(f"  FINDING dry != real:\n   dry={dry}\n   real={real}")
        out.append(f"  created={real['tasks_created']} skipped={real['tasks_skipped'][:4]} "
                   f"warnings={[w for w in real['warnings']][:6]}")
        stage = "reads"
        j, c, i = reads(alice.id)
        stage = "second"
        again = consume(alice, data, filename, fmt, False, tz)
        if again["tasks_created"] != 0 or again["projects_created"] != 0:
            out.append(f"  FINDING second import created {again['tasks_created']} tasks, "
                       f"{again['projects_created']} projects")
        stage = "reads2"
        j, c, i = reads(alice.id)
        stage = "json-roundtrip"
        fresh = make_user()
        rt = consume(fresh, j, "export.json", None, False, "UTC")
        if rt["tasks_skipped"] or rt["tasks_created"] != real["tasks_created"]:
            out.append(f"  FINDING JSON re-import: created {rt['tasks_created']} (orig {real['tasks_created']}), "
                       f"skipped {rt['tasks_skipped'][:5]} warnings {rt['warnings'][:5]}")
        reads(fresh.id)
        stage = "ics-roundtrip"
        fresh2 = make_user()
        rt2 = consume(fresh2, i, "export.ics", None, False, "UTC")
        if rt2["tasks_skipped"] or rt2["tasks_created"] != real["tasks_created"]:
            out.append(f"  NOTE ICS re-import: created {rt2['tasks_created']}, skipped {rt2['tasks_skipped'][:5]}"
                       f" warnings {rt2['warnings'][:5]}")
        stage = "csv-roundtrip"
        fresh3 = make_user()
        rt3 = consume(fresh3, c.encode(), "export.csv", None, False, "UTC")
        if rt3["tasks_skipped"] or rt3["tasks_created"] != real["tasks_created"]:
            out.append(f"  NOTE CSV re-import: created {rt3['tasks_created']}, skipped {rt3['tasks_skipped'][:5]}"
                       f" warnings {rt3['warnings'][:5]}")
    except ValidationError as e:
        out.append(f"  FINDING? ValidationError at stage {stage}: {e.details}")
    except Exception as e:  # noqa: BLE001
        tb = traceback.format_exc().strip().splitlines()
        out.append(f"  FINDING EXC at stage {stage}: {type(e).__name__}: {str(e)[:300]}")
        out.extend("    " + l for l in tb[-14:])
    print("\n".join(out))
