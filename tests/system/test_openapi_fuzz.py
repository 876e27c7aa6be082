"""schemathesis against the app's own OpenAPI document: whatever it sends, never a 500.

Operations are driven one by one with Hypothesis (schemathesis' pytest plugin does not
run under this pytest), so every failure names the operation and the request.
"""

from __future__ import annotations

import schemathesis
from browser import make_user
from factories import bearer
from hypothesis import HealthCheck, given, settings
from stack import Deployment


def test_it_never_answers_500(stack: Deployment) -> None:
    # Given an admin's token (the widest access) and the app's own OpenAPI document
    email = make_user(stack, "admin", "Fuzz Admin")
    token = bearer(stack, email)["Authorization"].removeprefix("Bearer ")
    schema = schemathesis.openapi.from_url(f"{stack.web_url()}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    statuses: set[int] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5

    # When each operation gets generated requests, valid and not
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call(headers=headers, timeout=20)
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"
                )

        call()

    # Then none of them made the server fail, and the token did get requests through
    assert failures == []
    assert any(200 <= status < 300 for status in statuses), statuses
