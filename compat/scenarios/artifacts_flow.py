"""A flow that publishes one artifact of every kind the client creates. argv[1]: a key prefix (unique per test).
A task makes the table (so it carries a task run id); the flow makes markdown, link, image and a progress
artifact it moves to 100 %; the markdown key is written twice, so its latest is the second version."""
import sys

from prefect import flow, task
from prefect.artifacts import (create_image_artifact, create_link_artifact, create_markdown_artifact,
                               create_progress_artifact, create_table_artifact, update_progress_artifact)

from _report import report


@task
def make_table(prefix: str) -> str:
    return str(create_table_artifact(key=f"{prefix}-table", table=[{"city": "Oslo", "temp": -3}, {"city": "Rome", "temp": 14}],
                                     description="Temperatures"))


@flow
def artifacts_flow(prefix: str) -> dict:
    ids = {"table": make_table(prefix)}
    create_markdown_artifact(key=f"{prefix}-report", markdown="# First draft", description="v1")
    ids["markdown"] = str(create_markdown_artifact(key=f"{prefix}-report", markdown="# Final report", description="v2"))
    ids["link"] = str(create_link_artifact(key=f"{prefix}-link", link="https://example.com/run", link_text="the run"))
    ids["image"] = str(create_image_artifact(key=f"{prefix}-image", image_url="https://example.com/chart.png"))
    progress = create_progress_artifact(key=f"{prefix}-progress", progress=0.0, description="Loading")
    for done in (25.0, 60.0, 100.0):
        update_progress_artifact(progress, done)
    ids["progress"] = str(progress)
    return ids


if __name__ == "__main__":
    state = artifacts_flow(sys.argv[1], return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, state=state.type.value, result=state.result())
