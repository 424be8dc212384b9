"""A flow that enters `concurrency(NAME, occupy=1)` once GO_FILE exists and records when it held the slot; several
copies started together contend for one global concurrency limit."""
import os
import sys
import time

from prefect import flow
from prefect.concurrency.sync import concurrency

from _report import report

NAME, GO_FILE = sys.argv[1], sys.argv[2]


@flow
def limited_section():
    report(ready=True)
    while not os.path.exists(GO_FILE):
        time.sleep(0.05)
    with concurrency(NAME, occupy=1, strict=True):
        start = time.time()
        time.sleep(0.5)
        end = time.time()
    report(held=[start, end])


if __name__ == "__main__":
    state = limited_section(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, state=state.type.value)
