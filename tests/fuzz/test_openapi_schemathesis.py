"""Schemathesis against /api/v1/openapi.json, in process (WSGI), with every role's bearer token.

For each operation of the OpenAPI document, the database is reseeded (tests/fuzz/conftest.py) and every
role sends generated requests: valid ones (path ids drawn from the seeded objects or anywhere) and
invalid ones (negative mode). Every answer must

- not be a server error (no 5xx),
- carry a status the operation documents *explicitly* (flask-smorest's catch-all "default" does not
  count: a 403 or 404 a client must handle has to be listed),
- conform to the documented schema and content type.

Hypothesis runs derandomized (a fixed seed per operation and role) with few examples, so CI repeats
exactly what ran here.
"""
from __future__ import annotations

import os
import re
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import ROLE_NAMES, seed_world

EXAMPLES_PER_ROLE = 6  # valid + invalid; x 7 roles x ~75 operations


def _operation_keys() -> list[str]:
    """"METHOD /path" of every operation, read from a throwaway app at collection time."""
    from meetings import create_app
    from meetings.api import api

    with tempfile.TemporaryDirectory() as tmp:
        create_app({"DATABASE_URL": f"sqlite:///{tmp}/spec.sqlite3", "INSTANCE_PATH": f"{tmp}/i",
                    "STORAGE_PATH": f"{tmp}/s", "SECRET_KEY": "spec", "TESTING": True})
        paths = api.spec.to_dict()["paths"]
    return [f"{method.upper()} {path}" for path, ops in paths.items() for method in ops
            if method in ("get", "post", "put", "patch", "delete")]


OPERATIONS = _operation_keys()


SURVEY = os.environ.get("FUZZ_SURVEY")  # a file: record undocumented statuses there instead of failing


def documented_status(ctx, response, case) -> None:
    """The status is listed by the operation itself, not only covered by "default"."""
    listed = {str(code) for code in case.operation.definition.raw.get("responses", {}) if code != "default"}
    if str(response.status_code) not in listed:
        if SURVEY:
            with open(SURVEY, "a") as fh:
                fh.write(f"{case.operation.label}\t{response.status_code}\n")
            return
        raise AssertionError(f"{case.operation.label}: status {response.status_code} is not documented "
                             f"(documented: {', '.join(sorted(listed))})")


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          documented_status]


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


def _strategy(operation, ids: dict[str, list]):
    """Valid requests at seeded ids or anywhere, and invalid requests."""
    names = re.findall(r"{(\w+)}", operation.path)
    # Seeded ids, a missing one, and one past every integer column (2**63 overflows SQLite's INTEGER).
    choices = {name: st.sampled_from([*ids[name], 987654, 2**63]) for name in names if ids.get(name)}
    seeded = st.fixed_dictionaries(choices).flatmap(lambda pp: operation.as_strategy(path_parameters=pp))
    return st.one_of(seeded, operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE))


def _fuzz(operation, ids: dict[str, list], headers: dict[str, str]) -> None:
    """Run the generated requests of one operation with one role's token; raises on the first failure."""

    @settings(max_examples=EXAMPLES_PER_ROLE, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(case=_strategy(operation, ids))
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize("key", OPERATIONS)
def test_operation_for_every_role(key, fuzz_app, api_schema, sample_blob):
    method, path = key.split(" ", 1)
    operation = api_schema[path][method]
    with fuzz_app.app_context():
        seeded = seed_world(fuzz_app, sample_blob)
    failures = []
    for role in ROLE_NAMES:
        try:
            _fuzz(operation, seeded.ids, {"Authorization": f"Bearer {seeded.tokens[role]}"})
        except Exception as exc:  # noqa: BLE001 - collect every role's failure, then fail once
            failures.append(f"--- as {role}:\n{exc}")
    assert not failures, f"{key}\n" + "\n".join(failures)
