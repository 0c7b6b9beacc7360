"""Reading what an in-process run said: its failures and its check evaluations."""

from dagster import ExecuteInProcessResult


def failure_message(result: ExecuteInProcessResult) -> str:
    """Every failed step's error, user-facing description included, as one string to search."""
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the run should have failed"
    return " ".join(
        f.step_failure_data.error.message + str(f.step_failure_data.user_failure_data) for f in failures
    )
