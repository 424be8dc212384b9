"""A flow that calls `run_deployment(NAME, parameters={"x": X})` and reports the child run it waited for."""
import sys

from prefect import flow
from prefect.deployments import run_deployment

from _report import report

NAME, X = sys.argv[1], int(sys.argv[2])


@flow
def parent() -> None:
    child = run_deployment(NAME, parameters={"x": X}, timeout=150, poll_interval=1)
    report(child_id=str(child.id), child_state=child.state.type.value, child_parameters=child.parameters)


if __name__ == "__main__":
    state = parent(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, state=state.type.value)
