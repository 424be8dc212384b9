"""A flow that pauses itself (pause_flow_run with a timeout) and continues once resumed."""
from prefect import flow
from prefect.flow_runs import pause_flow_run
from prefect.runtime import flow_run

from _report import report


@flow
def pausing_flow():
    report(flow_run_id=flow_run.id)
    pause_flow_run(timeout=90, poll_interval=1)
    return "resumed"


if __name__ == "__main__":
    state = pausing_flow(return_state=True)
    report(state=state.type.value, result=state.result())
