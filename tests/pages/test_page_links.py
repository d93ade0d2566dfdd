"""The list pages' own links are made without url_for (pages.task_views.index_url): they
must be exactly what url_for makes, under any script root, for any value."""
from __future__ import annotations

import pytest
from flask import url_for

from myapp.pages.task_views import index_url

CASES = [{}, {"status": "today"}, {"q": "a b&c=d/é?#%+", "tag": "x-y", "cursor": None},
         {"sort": "due", "cursor": "abc_DEF-=", "priority": "high"}, {"q": "!$'()*,/:;?@~ \t"}, {"status": None}]


@pytest.mark.parametrize("script_root", ["", "/app"])
def test_a_list_link_is_what_url_for_builds(app, script_root):
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": script_root}):
        for params in CASES:
            assert index_url(**params) == url_for("pages.index", **params), params
