"""Data for the UI test: a flow run with mapped and submitted tasks, logs, artifacts and a subflow, plus what the
other pages list: a work pool with a deployment of the flow, a variable, a Secret block, a global concurrency
limit and a tag limit. Reports the ids the test opens."""
import asyncio
from contextlib import suppress

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists
from prefect.variables import Variable

from _report import report


@task
def square(x: int) -> int:
    get_run_logger().info("squaring %s", x)
    return x * x


@task
def summarize(values: list[int]) -> int:
    create_table_artifact(key="ui-squares", table=[{"x": i, "square": v} for i, v in enumerate(values)])
    return sum(values)


@flow
def ui_child(total: int) -> int:
    get_run_logger().info("child sees %s", total)
    return total + 1


@flow(name="ui-etl")
def ui_etl(n: int = 4) -> int:
    get_run_logger().info("starting with n=%s", n)
    squares = square.map(range(n)).result()
    total = summarize.submit(squares).result()
    create_markdown_artifact(key="ui-report", markdown=f"# Total\n{total}")
    return ui_child(total)


async def other_pages(flow_id) -> str:
    async with get_client() as client:
        with suppress(ObjectAlreadyExists):
            await client.create_work_pool(WorkPoolCreate(name="ui-pool", type="process"))
        deployment_id = await client.create_deployment(flow_id=flow_id, name="ui-nightly", work_pool_name="ui-pool",
                                                       entrypoint="ui_data.py:ui_etl", parameters={"n": 3})
        with suppress(ObjectAlreadyExists):
            await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name="ui-warehouse", limit=2))
        await client.create_concurrency_limit(tag="ui-db", concurrency_limit=3)
    return str(deployment_id)


if __name__ == "__main__":
    state = ui_etl(return_state=True)
    Variable.set("ui_threshold", {"max": 10}, tags=["ui"], overwrite=True)
    Secret(value="s3cr3t").save("ui-token", overwrite=True)
    run_id = state.state_details.flow_run_id

    async def flow_id_of_run():
        async with get_client() as client:
            return (await client.read_flow_run(run_id)).flow_id

    flow_id = asyncio.run(flow_id_of_run())
    report(state=state.type.value, flow_run_id=str(run_id), flow_id=str(flow_id),
           deployment_id=asyncio.run(other_pages(flow_id)))
