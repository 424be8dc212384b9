"""A flow retry re-runs a task with cache_policy=INPUTS: the second attempt's task run is Cached.
argv[1]: a token making the task's inputs (hence its cache key) unique to this test session."""
import sys

from prefect import flow, task
from prefect.cache_policies import INPUTS

from _report import report

executions = 0
attempts = []


@task(cache_policy=INPUTS, persist_result=True)
def expensive(token):
    global executions
    executions += 1
    return f"computed {token}"


@flow(retries=1, retry_delay_seconds=0)
def cache_across_retry(token):
    state = expensive(token, return_state=True)
    attempts.append({"task_run_id": state.state_details.task_run_id, "state_name": state.name,
                     "result": state.result()})
    if len(attempts) == 1:
        raise RuntimeError("first attempt fails after the task ran")
    return state.result()


if __name__ == "__main__":
    state = cache_across_retry(sys.argv[1], return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, result=state.result(), attempts=attempts,
           executions=executions)
