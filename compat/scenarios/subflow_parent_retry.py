"""A subflow fails on its first run; the parent's retry runs it again (a new child flow run)."""
from prefect import flow
from prefect.runtime import flow_run

from _report import report

children = []


@flow
def failing_once_child():
    children.append(flow_run.id)
    if len(children) == 1:
        raise ValueError("the child fails on its first run")
    return "child done"


@flow(retries=1, retry_delay_seconds=0)
def retrying_parent():
    return failing_once_child()


if __name__ == "__main__":
    state = retrying_parent(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, result=state.result(), children=children)
