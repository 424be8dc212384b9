"""A plain @flow returning a value. Optional argv[1]: the flow's name."""
import sys

from prefect import flow

from _report import report


@flow
def plain_flow():
    return 42


if __name__ == "__main__":
    chosen = plain_flow.with_options(name=sys.argv[1]) if len(sys.argv) > 1 else plain_flow
    state = chosen(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, result=state.result(), state=state.type.value)
