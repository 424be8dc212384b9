"""`flow.serve(name=argv[1])` of a flow that suspends itself for typed input (suspend_flow_run): the process
running it exits, and the run starts again from the top once resumed, this time getting the input."""
import sys

from prefect import flow
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput


class Decision(RunInput):
    go: bool
    note: str = ""


@flow(persist_result=True)
def suspending() -> dict:
    decision = suspend_flow_run(wait_for_input=Decision, timeout=120)
    return {"go": decision.go, "note": decision.note}


if __name__ == "__main__":
    from _report import report

    report(serving=True)
    suspending.serve(name=sys.argv[1])
