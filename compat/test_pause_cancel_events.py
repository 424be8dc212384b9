"""Scenario 7: pausing and resuming a flow, cancelling a running flow with the CLI, and watching a flow run's
state events over /api/events/out."""


def test_a_paused_flow_continues_when_resumed_from_another_process(prefect, api):
    flow = prefect.start("pausing_flow")
    flow_run_id = flow.wait_for("flow_run_id")
    paused = api.wait_for_flow_run(flow_run_id, "PAUSED")
    assert paused["state"]["state_details"]["pause_timeout"] is not None
    prefect.run("resume_flow", flow_run_id)
    assert flow.finish()["result"] == "resumed"
    assert api.flow_run_state_names(flow_run_id) == ["Pending", "Running", "Paused", "Running", "Completed"]


def test_prefect_flow_run_cancel_on_a_running_flow(prefect, api, tmp_path):
    flow = prefect.start("waiting_flow", tmp_path / "finish")
    flow_run_id = flow.wait_for("flow_run_id")
    api.wait_for_flow_run(flow_run_id, "RUNNING")
    assert "successfully scheduled for cancellation" in prefect.cli("flow-run", "cancel", flow_run_id)
    assert api.flow_run(flow_run_id)["state_type"] == "CANCELLING"
    # A purely local run is not killed by anyone: its Completed proposal is rejected (only Cancelled may follow
    # Cancelling) and the engine ends in Cancelling...
    (tmp_path / "finish").touch()
    assert flow.finish()["state_type"] == "CANCELLING"
    # ...until the process's supervisor (a runner or worker) forces Cancelled, as Prefect's runner does.
    assert prefect.run("mark_cancelled", flow_run_id) == {"status": "ACCEPT", "state_type": "CANCELLED"}
    assert api.flow_run(flow_run_id)["state_type"] == "CANCELLED"
    assert api.flow_run_state_names(flow_run_id) == ["Pending", "Running", "Cancelling", "Cancelled"]


def test_an_events_subscriber_receives_the_flow_run_state_events(prefect, api, tmp_path):
    flow = prefect.start("waiting_flow", tmp_path / "finish")
    flow_run_id = flow.wait_for("flow_run_id")
    api.wait_for_flow_run(flow_run_id, "RUNNING")
    subscriber = prefect.start("flow_run_events", flow_run_id, "prefect.flow-run.Completed")
    subscriber.wait_for("subscribed")  # the events so far arrive as backfill, the rest live
    (tmp_path / "finish").touch()
    flow.finish()
    events = subscriber.finish(timeout=30)["events"]
    assert {e["resource"] for e in events} == {f"prefect.flow-run.{flow_run_id}"}
    state_events = [e for e in events if e["state_type"]]  # the engine's own heartbeat events have none
    assert [e["event"] for e in state_events] == [
        "prefect.flow-run.Pending", "prefect.flow-run.Running", "prefect.flow-run.Completed"]
    assert [e["state_type"] for e in state_events] == ["PENDING", "RUNNING", "COMPLETED"]
    assert len({e["id"] for e in events}) == len(events)  # backfilled events are not repeated live
