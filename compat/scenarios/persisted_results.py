"""persist_result=True on a flow and on a task: their result-record metadata travels in state.data."""
from prefect import flow, task

from _report import report


@task(persist_result=True)
def task_value():
    return {"from": "task", "items": [1, 2, 3]}


@flow(persist_result=True)
def persisted_results():
    state = task_value(return_state=True)
    report(task_run_id=state.state_details.task_run_id,
           task_storage_key=state.data.metadata.storage_key, task_result=state.result())
    return {"from": "flow", "answer": 42}


if __name__ == "__main__":
    state = persisted_results(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, flow_storage_key=state.data.metadata.storage_key,
           flow_result=state.result())
