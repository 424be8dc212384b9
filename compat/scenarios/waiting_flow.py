"""A flow that runs until a file appears (argv[1]), so a test can act on it while it is Running."""
import os
import sys
import time

from prefect import flow
from prefect.runtime import flow_run

from _report import report


@flow
def waiting_flow(signal_path):
    report(flow_run_id=flow_run.id)
    deadline = time.monotonic() + 90
    while not os.path.exists(signal_path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{signal_path} never appeared")
        time.sleep(0.05)
    return "signalled"


if __name__ == "__main__":
    state = waiting_flow(sys.argv[1], return_state=True)
    report(state_type=state.type.value, state_name=state.name)
