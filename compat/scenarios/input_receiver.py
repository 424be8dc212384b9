"""A flow that waits for a NumberData input (receive_input's polling of /flow_runs/{id}/input/filter), answers
its sender with the square and returns the number."""
from prefect import flow
from prefect.input import RunInput
from prefect.runtime import flow_run

from _report import report


class NumberData(RunInput):
    number: int


@flow
def input_receiver() -> int:
    report(flow_run_id=flow_run.id)
    for data in NumberData.receive(timeout=60, poll_interval=0.5, raise_timeout_error=True):
        data.respond(NumberData(number=data.number ** 2))
        return data.number


if __name__ == "__main__":
    state = input_receiver(return_state=True)
    report(state=state.type.value, result=state.result())
