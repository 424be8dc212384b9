"""@task(retries=2) failing twice, then succeeding (immediate retries: the client emits Retrying states)."""
from prefect import flow, task

from _report import report

attempts = 0


@task(retries=2)
def flaky_task():
    global attempts
    attempts += 1
    if attempts < 3:
        raise ValueError(f"attempt {attempts} fails")
    return attempts


@flow
def task_retries():
    state = flaky_task(return_state=True)
    report(task_run_id=state.state_details.task_run_id, task_result=state.result())


if __name__ == "__main__":
    state = task_retries(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, attempts=attempts)
