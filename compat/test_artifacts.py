"""Scenario: artifacts. One flow publishes markdown (twice under one key), table (from a task), link, image and
progress artifacts (updated to 100 %); `prefect artifact ls` and `prefect artifact inspect` read them back, and
deleting a key's latest version makes the previous one the latest again."""

import json
import uuid


def test_every_artifact_kind_round_trips_through_the_client_and_cli(prefect, api):
    prefix = f"a-{uuid.uuid4().hex[:8]}"
    run = prefect.run("artifacts_flow", prefix)
    assert run["state"] == "COMPLETED", run
    ids, flow_run = run["result"], run["flow_run_id"]

    def latest(kind):
        return api.get(f"/artifacts/{prefix}-{kind}/latest")

    table = latest("table")
    assert table["type"] == "table" and table["description"] == "Temperatures"
    assert json.loads(table["data"]) == [{"city": "Oslo", "temp": -3}, {"city": "Rome", "temp": 14}]
    assert table["task_run_id"] is not None and table["flow_run_id"] == flow_run
    assert (latest("report")["type"], latest("report")["data"]) == ("markdown", "# Final report")
    assert latest("link")["data"] == "[the run](https://example.com/run)"
    assert (latest("image")["type"], latest("image")["data"]) == ("image", "https://example.com/chart.png")
    assert (latest("progress")["type"], latest("progress")["data"]) == ("progress", 100.0)
    assert api.get(f"/artifacts/{ids['progress']}")["data"] == 100.0

    listed = prefect.cli("artifact", "ls")
    for kind in ("table", "report", "link", "image", "progress"):
        assert f"{prefix}-{kind}" in listed
    assert ids["markdown"] in listed  # ls shows each key's latest id
    latest_rows = json.loads(prefect.cli("artifact", "ls", "--output", "json"))
    mine = {row["key"]: row for row in latest_rows if row["key"].startswith(prefix)}
    assert mine[f"{prefix}-report"]["latest_id"] == ids["markdown"]

    versions = json.loads(prefect.cli("artifact", "inspect", f"{prefix}-report", "--output", "json"))
    assert [v["data"] for v in versions] == ["# Final report", "# First draft"]
    assert {v["flow_run_id"] for v in versions} == {flow_run}
    assert api.post("/artifacts/count", {"flow_runs": {"id": {"any_": [flow_run]}}}) == 6
    assert api.post("/artifacts/latest/count", {"artifacts": {"key": {"like_": prefix}}}) == 5

    api_delete = api.status("DELETE", f"/artifacts/{ids['markdown']}")
    assert api_delete == 204
    assert latest("report")["data"] == "# First draft"


def test_deleting_every_version_of_a_key_removes_it_from_the_cli(prefect, api):
    prefix = f"a-{uuid.uuid4().hex[:8]}"
    assert prefect.run("artifacts_flow", prefix)["state"] == "COMPLETED"
    assert "Deleted" in prefect.cli("artifact", "delete", f"{prefix}-report")
    assert api.status("GET", f"/artifacts/{prefix}-report/latest") == 404
    assert f"{prefix}-report" not in prefect.cli("artifact", "ls")
