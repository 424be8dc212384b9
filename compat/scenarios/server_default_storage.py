"""argv[1] == "save": saves a LocalFileSystem block named argv[2] with basepath argv[3]. argv[1] == "run": runs a flow
whose task and flow persist their results, with no result storage setting of the client's own, and reports where
the results went (the storage block the records name, and their keys)."""
import sys

from prefect import flow, task
from prefect.filesystems import LocalFileSystem

from _report import report


@task(persist_result=True)
def doubled(x):
    return x * 2


@flow(persist_result=True)
def stored_where_the_server_says():
    state = doubled(21, return_state=True)
    report(task_storage_key=state.data.metadata.storage_key,
           task_storage_block_id=state.data.metadata.storage_block_id, task_result=state.result())
    return "flow-result"


if sys.argv[1] == "save":
    LocalFileSystem(basepath=sys.argv[3]).save(sys.argv[2], overwrite=True)
    report(saved=True)
else:
    state = stored_where_the_server_says(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, flow_storage_key=state.data.metadata.storage_key,
           flow_storage_block_id=state.data.metadata.storage_block_id, flow_result=state.result())
