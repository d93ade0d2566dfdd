"""The OpenAPI document: complete, generated from the input models, true to the responses.

(test_api_http.py runs the whole API against it with Schemathesis; these are the
structural promises, checked directly.)
"""
from __future__ import annotations

import re

import jsonschema_rs
import pytest

from myapp.services.validation import ProjectCreate, ProjectUpdate, TaskCreate, TaskQuery, TaskUpdate

pytestmark = pytest.mark.pooled

METHODS = {"get", "post", "patch", "delete", "put"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")  # no credentials: the document is public
    assert response.status_code == 200
    return response.json


def documented_operations(document) -> set[tuple[str, str]]:
    base = document["servers"][0]["url"]
    return {(method.upper(), base + path.replace("{task_id}", "<task_id>").replace("{project_id}", "<project_id>"))
            for path, item in document["paths"].items() for method in item if method in METHODS}


def test_every_route_of_the_api_is_documented_and_nothing_else(app, document):
    routes = {(method, re.sub(r"<\w+:(\w+)>", r"<\1>", rule.rule))  # converters aside
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented_operations(document) == routes


def test_request_bodies_are_the_service_input_models(document):
    schemas = document["components"]["schemas"]
    for model in (TaskCreate, TaskUpdate, ProjectCreate, ProjectUpdate):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in schema.pop("$defs", {}).items():  # nested models live among the components
            assert schemas[name] == nested
        assert schemas[model.__name__] == schema
    assert schemas["TaskCreate"]["properties"]["title"]["pattern"]  # the rules are stated, not just the types
    assert schemas["TaskCreate"]["properties"]["tags"]["items"]["pattern"]


def test_the_list_parameters_are_the_query_model_fields_and_no_more(document):
    parameters = document["paths"]["/tasks"]["get"]["parameters"]
    assert [parameter["name"] for parameter in parameters] == list(TaskQuery.model_fields)
    assert all(parameter["in"] == "query" and not parameter["required"] for parameter in parameters)
    limit = next(parameter for parameter in parameters if parameter["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 200, 50)


def resolve(document, item: dict) -> dict:
    while "$ref" in item:
        *_, kind, name = item["$ref"].split("/")
        item = document["components"][kind][name]
    return item


def test_every_operation_documents_its_errors_with_their_headers(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = {status: resolve(document, response) for status, response in operation["responses"].items()}
            assert {"429", "500"} <= set(responses), (method, path)
            assert "Retry-After" in responses["429"]["headers"]
            if path == "/openapi.json":
                assert operation["security"] == []
                continue
            assert "WWW-Authenticate" in responses["401"]["headers"]
            assert "Retry-After" in responses["503"]["headers"]
            if method != "get":
                assert "403" in responses, (method, path)
            if "{task_id}" in path:
                assert "404" in responses, (method, path)
            if method in ("patch", "delete") or path.endswith("/toggle"):
                assert "412" in responses and "400" in responses, (method, path)


def test_success_headers_are_documented(document):
    created = document["paths"]["/tasks"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "ETag", "Idempotent-Replayed"} <= set(created)
    assert "ETag" in document["paths"]["/tasks/{task_id}"]["get"]["responses"]["200"]["headers"]
    assert "304" in document["paths"]["/tasks/{task_id}"]["get"]["responses"]


def validator(document, name: str):
    return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{name}",
                                        "components": document["components"]})


def test_real_responses_match_their_documented_schemas(client, document, alice, as_alice, make_task):
    task = make_task(alice, description="d", due_date="2026-01-02", tags=["a"])
    client.post(f"/api/v1/tasks/{task.id}/toggle", headers=as_alice)
    for path, status, schema in (
            ("/api/v1/tasks", 200, "TaskPage"), (f"/api/v1/tasks/{task.id}", 200, "Task"),
            ("/api/v1/tags", 200, "TagCounts"), ("/api/v1/me", 200, "User"), ("/api/v1/export", 200, "Export"),
            ("/api/v1/tasks?limit=0", 422, "Error"), ("/api/v1/nowhere", 404, "Error")):
        response = client.get(path, headers=as_alice)
        assert response.status_code == status, path  # the answer meant, not an error that happens to validate
        validator(document, schema).validate(response.json)
