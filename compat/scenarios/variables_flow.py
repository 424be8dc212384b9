"""A flow that keeps its settings in Prefect variables. argv[1]: a name prefix (unique per test). Sets one variable
of each JSON kind, reads them back, refuses a second set without overwrite, overwrites one, unsets another."""
import sys

from prefect import flow
from prefect.variables import Variable

from _report import report


@flow
def variables_flow(prefix: str) -> dict:
    values = {"text": "hello", "number": 42, "real": 2.5, "flag": True, "listing": [1, "two", None],
              "mapping": {"nested": {"deep": [1, 2]}}}
    for kind, value in values.items():
        Variable.set(f"{prefix}_{kind}", value, tags=["compat", kind])
    read = {kind: Variable.get(f"{prefix}_{kind}") for kind in values}
    try:
        Variable.set(f"{prefix}_text", "again")
        refused = False
    except ValueError:
        refused = True
    Variable.set(f"{prefix}_text", "updated", overwrite=True)
    removed = Variable.unset(f"{prefix}_flag")
    return {"read": read, "refused_without_overwrite": refused, "after_overwrite": Variable.get(f"{prefix}_text"),
            "unset": removed, "after_unset": Variable.get(f"{prefix}_flag", default="gone"),
            "unset_again": Variable.unset(f"{prefix}_flag")}


if __name__ == "__main__":
    state = variables_flow(sys.argv[1], return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, state=state.type.value, result=state.result())
