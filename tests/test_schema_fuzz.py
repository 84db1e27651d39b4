"""Schemathesis against our own OpenAPI schema, in process: no generated input may cause a 5xx, and every
answer must match the schema (envelopes included), its status codes and its content type."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", get_wsgi_application())

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def auth(officer, make_request):
    # Called as a plain WSGI app, Django would close the test's connection after each request (the test
    # client switches this off the same way).
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    make_request()
    yield {"Authorization": f"Bearer {officer.raw}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_breaks_the_api(case, auth):
    case.call_and_validate(headers=auth, checks=CHECKS)
