"""A flow that pauses for typed input (pause_flow_run(wait_for_input=Approval)) and returns what it was resumed
with."""
from prefect import flow
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run

from _report import report


class Approval(RunInput):
    approver: str
    amount: int


@flow
def input_flow() -> dict:
    report(flow_run_id=flow_run.id)
    approval = pause_flow_run(wait_for_input=Approval.with_initial_data(description="Approve the payment?", amount=1),
                              timeout=90, poll_interval=1)
    return {"approver": approval.approver, "amount": approval.amount}


if __name__ == "__main__":
    state = input_flow(return_state=True)
    report(state=state.type.value, result=state.result())
