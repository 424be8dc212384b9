"""Reads a run from the API with the Prefect client and returns State.result() of its state.
argv: flow_run|task_run, id."""
import sys

from prefect import get_client

from _report import report

if __name__ == "__main__":
    kind, run_id = sys.argv[1], sys.argv[2]
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id) if kind == "flow_run" else client.read_task_run(run_id)
    report(state_type=run.state.type.value, result=run.state.result())
