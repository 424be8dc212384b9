"""A flow run put into a work pool's queue for a worker, without a deployment: the run carries the flow's
entrypoint in its job variables (PREFECT__FLOW_ENTRYPOINT, which the engine loads) and the engine command itself
(without an explicit command the process worker prepares a deployment's workspace first). argv: pool,
queue ("" for the pool's default queue), value. The flow itself: doubled(x) returns 2 * x and logs it."""
import asyncio
import sys
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.states import Scheduled

from _report import report


@flow(name="doubled")
def doubled(x: int) -> int:
    get_run_logger().info("doubling %s", x)
    return 2 * x


async def main(pool: str, queue: str, x: int) -> None:
    here = Path(__file__).resolve()
    async with get_client() as client:
        run = await client.create_flow_run(
            doubled, parameters={"x": x}, state=Scheduled(), work_pool_name=pool, work_queue_name=queue or None,
            job_variables={"env": {"PREFECT__FLOW_ENTRYPOINT": f"{here}:doubled"}, "working_dir": str(here.parent),
                           "command": f"{sys.executable} -m prefect.engine"})
    report(flow_run_id=run.id, work_queue_id=run.work_queue_id, work_queue_name=run.work_queue_name,
           work_pool_name=run.work_pool_name, state=run.state.type.value)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
