"""What a runner or worker does once the infrastructure of a Cancelling flow run is gone: it forces Cancelled
(prefect/runner/_state_proposer.py propose_cancelled). argv[1]: the flow run id."""
import sys

from prefect import get_client
from prefect.client.schemas.objects import StateType

from _report import report

if __name__ == "__main__":
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(sys.argv[1])
        state = run.state.model_copy(update={"name": "Cancelled", "type": StateType.CANCELLED,
                                             "message": "The flow run's process has ended."})
        result = client.set_flow_run_state(run.id, state, force=True)
    report(status=result.status.value, state_type=result.state.type.value)
