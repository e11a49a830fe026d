"""At least 5,000 requests generated from the served OpenAPI document (schemathesis), valid and
invalid alike, against the running API: not one answer is a 5xx.

Every operation gets the same share, half from bodies and parameters that follow the document
and half from ones that break it; the per-person paths are tried both with made-up ids and with
a real person's, so handlers past the 404 are reached. The run is bounded (TEST_LIMIT_S).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import pytest
import requests
import schemathesis
from conftest_api import Env
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

pytest_plugins = ["conftest_mqtt", "conftest_api"]

TEST_LIMIT_S = 600
REQUESTS = 5000


def test_r12_five_thousand_generated_requests_get_no_5xx(make_env: Callable[..., Env]) -> None:
    env = make_env()
    base = f"http://127.0.0.1:{env.server.port}"
    auth = {"Authorization": f"Bearer {env.server.token}"}
    document = requests.get(f"{base}/api/openapi.json", headers=auth, timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    # The event stream is a WebSocket: generated GETs get their 4xx, but one per operation is
    # enough to learn that.
    runs = [(op, mode, real) for op in operations for mode in GenerationMode for real in (0, 1)]
    per_run = math.ceil(REQUESTS / len(runs))
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    session = requests.Session()

    for operation, mode, real in runs:
        fixed = {}
        if real and "{person_id}" in operation.path:
            fixed["person_id"] = env.person("Fuzz Resident")
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)

        @settings(
            max_examples=per_run,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case: schemathesis.Case) -> None:
            # The token always: test_api.py proves that requests without it get 401; here
            # every request should reach a handler.
            case.headers = {**(case.headers or {}), **auth}
            response = case.call(base_url=base, session=session, timeout=30)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )

        call()

    total = sum(statuses.values())
    counts = dict(sorted(statuses.items()))
    print(f"fuzz: {total} requests over {len(operations)} operations: {counts}")
    assert total >= REQUESTS, (total, statuses)
    assert failures == [], failures[:10]
    # Most generated requests are refused, each with a status that says why.
    assert set(statuses) <= {200, 201, 204, 400, 401, 404, 405, 409, 413, 415, 422, 429}, statuses
    assert env.engine.store.verify_audit().ok
    assert env.api.get("/api/health").data["audit_ok"] is True


@pytest.fixture(autouse=True)
def _quiet_schemathesis(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING")
