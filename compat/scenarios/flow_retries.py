"""@flow(retries=2, retry_delay_seconds=1) failing twice, then succeeding."""
from prefect import flow

from _report import report

attempts = 0


@flow(retries=2, retry_delay_seconds=1)
def flaky_flow():
    global attempts
    attempts += 1
    if attempts < 3:
        raise ValueError(f"attempt {attempts} fails")
    return attempts


if __name__ == "__main__":
    state = flaky_flow(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, result=state.result(), attempts=attempts)
