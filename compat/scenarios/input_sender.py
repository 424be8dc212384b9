"""A flow that sends a number to another flow run (send_to) and waits for its answer on its own run.
argv[1]: the receiver's flow run id; argv[2]: the number."""
import sys
from uuid import UUID

from prefect import flow

from _report import report
from input_receiver import NumberData


@flow
def input_sender(receiver: str, number: int) -> int:
    NumberData(number=number).send_to(UUID(receiver))
    for reply in NumberData.receive(timeout=60, poll_interval=0.5, raise_timeout_error=True):
        return reply.number


if __name__ == "__main__":
    state = input_sender(sys.argv[1], int(sys.argv[2]), return_state=True)
    report(state=state.type.value, result=state.result())
