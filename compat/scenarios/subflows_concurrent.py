"""An async flow running 10 async subflows concurrently, each running 10 tasks."""
import asyncio

from prefect import flow, task
from prefect.runtime import flow_run

from _report import report


@task
async def square(x):
    return x * x


@flow
async def child(i):
    states = await asyncio.gather(*[square(10 * i + j, return_state=True) for j in range(10)])
    return {"flow_run_id": flow_run.id, "task_run_ids": [s.state_details.task_run_id for s in states],
            "total": sum([await s.result() for s in states])}


@flow
async def parent():
    return await asyncio.gather(*[child(i) for i in range(10)])


async def main():
    state = await parent(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, children=await state.result())


if __name__ == "__main__":
    asyncio.run(main())
