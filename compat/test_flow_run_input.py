"""Flow run input: a flow paused (or suspended) for typed input resumes with what it is given; resume refuses input
the stored schema does not accept; flows exchange values with send_to / receive; the /flow_runs/{id}/input routes
answer as Prefect's do."""

import json
import uuid

from harness import wait_until


def read_input(api, run_id: str, key: str):
    """The input's value as the server returns it (text/plain JSON), parsed; None when there is none."""
    r = api.http.get(f"/flow_runs/{run_id}/input/{key}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), (r.status_code, r.text)
    return json.loads(r.text)


def paused_with_schema(api, run_id: str) -> tuple[dict, dict]:
    """Waits until the run is Paused and its input schema stored (the client saves it after the pause)."""
    paused = api.wait_for_flow_run(run_id, "PAUSED")
    keyset = paused["state"]["state_details"]["run_input_keyset"]
    schema = wait_until(lambda: read_input(api, run_id, keyset["schema"]), what="the run input schema")
    return keyset, schema


def new_flow_run(api) -> str:
    flow = api.post("/flows/", {"name": f"inputs-{uuid.uuid4().hex[:8]}"})
    return api.post("/flow_runs/", {"flow_id": flow["id"]})["id"]


def test_a_flow_paused_for_typed_input_resumes_with_it_and_returns_it(prefect, api):
    flow = prefect.start("input_flow")
    run_id = flow.wait_for("flow_run_id")
    keyset, schema = paused_with_schema(api, run_id)
    assert keyset == {"description": "paused-1-description", "response": "paused-1-response", "schema": "paused-1-schema"}
    assert schema["required"] == ["approver"] and schema["properties"]["amount"]["default"] == 1
    # The client stores the description right after the schema.
    assert wait_until(lambda: read_input(api, run_id, keyset["description"]), what="the description") == "Approve the payment?"

    # Input the schema refuses: REJECT with Prefect's reason, the run stays paused, nothing is stored.
    refused = api.http.post(f"/flow_runs/{run_id}/resume", json={"run_input": {"approver": 5}})
    assert refused.status_code == 200
    assert refused.json()["status"] == "REJECT"
    assert refused.json()["details"]["reason"] == (
        "Reason: Validation failed for field 'approver'. Failure reason: 5 is not of type 'string'")
    assert refused.json()["state"]["type"] == "PAUSED"
    told = prefect.run("resume_with_input", run_id, json.dumps({"amount": 3}))
    assert told == {"resumed": False, "error": "Cannot resume this run: Reason: Validation failed. "
                                              "Failure reason: 'approver' is a required property"}
    # A run_input that is not an object is refused before anything is looked at.
    bad_body = api.http.post(f"/flow_runs/{run_id}/resume", json={"run_input": [1, 2]})
    assert bad_body.status_code == 422 and bad_body.json()["exception_detail"][0]["loc"] == ["body", "run_input"]
    assert api.flow_run(run_id)["state_type"] == "PAUSED"
    assert read_input(api, run_id, keyset["response"]) is None

    assert prefect.run("resume_with_input", run_id, json.dumps({"approver": "ada", "amount": 250})) == {"resumed": True}
    done = flow.finish()
    assert done["state"] == "COMPLETED" and done["result"] == {"approver": "ada", "amount": 250}
    assert read_input(api, run_id, keyset["response"]) == {"approver": "ada", "amount": 250}
    assert api.flow_run_state_names(run_id) == ["Pending", "Running", "Paused", "Running", "Completed"]


def test_a_suspended_served_flow_runs_again_with_its_input(prefect, api):
    name = f"suspend-{uuid.uuid4().hex[:6]}"
    server = prefect.start("suspending_flow", name)
    server.wait_for("serving")
    deployment = wait_until(lambda: api.status("GET", f"/deployments/name/suspending/{name}") == 200
                            and api.get(f"/deployments/name/suspending/{name}"), timeout=60, what="the deployment")
    run_id = api.post(f"/deployments/{deployment['id']}/create_flow_run", {})["id"]
    keyset, schema = wait_until(lambda: api.flow_run(run_id)["state_type"] == "PAUSED" and paused_with_schema(api, run_id),
                                timeout=120, what=lambda: f"the run to suspend:\n{server.output()}")
    assert api.flow_run(run_id)["state"]["state_details"]["pause_reschedule"] is True
    assert schema["required"] == ["go"]

    resumed = api.http.post(f"/flow_runs/{run_id}/resume", json={"run_input": {"go": True, "note": "ship it"}})
    assert resumed.status_code == 201 and resumed.json()["status"] == "ACCEPT"
    assert resumed.json()["state"]["type"] == "SCHEDULED" and resumed.json()["state"]["name"] == "Resuming"
    completed = wait_until(lambda: api.flow_run(run_id)["state_type"] == "COMPLETED" and api.flow_run(run_id),
                           timeout=120, what=lambda: f"the resumed run to complete:\n{server.output()}")
    # Its process exited at the suspension; the runner started it again from the top once resumed.
    names = api.flow_run_state_names(run_id)
    after = names[names.index("Suspended"):]
    assert after[:2] == ["Suspended", "Resuming"] and "Running" in after and after[-1] == "Completed", names
    assert completed["state"]["type"] == "COMPLETED"
    assert read_input(api, run_id, keyset["response"]) == {"go": True, "note": "ship it"}
    server.kill()


def test_flows_exchange_values_with_send_to_and_receive(prefect, api):
    receiver = prefect.start("input_receiver")
    receiver_id = receiver.wait_for("flow_run_id")
    sent = prefect.run("input_sender", receiver_id, 12)
    assert sent["state"] == "COMPLETED" and sent["result"] == 144
    got = receiver.finish()
    assert got["state"] == "COMPLETED" and got["result"] == 12
    inputs = api.post(f"/flow_runs/{receiver_id}/input/filter", {"prefix": "numberdata-auto", "limit": 10})
    assert len(inputs) == 1 and json.loads(inputs[0]["value"]) == {"number": 12}
    assert inputs[0]["sender"].startswith("prefect.flow-run.")


def test_the_input_routes_answer_as_prefect(api):
    run_id = new_flow_run(api)
    base = f"/flow_runs/{run_id}/input"
    assert api.http.post(base, json={"key": "greeting-1", "value": '"hi"', "sender": "tester"}).status_code == 201
    assert api.http.post(base, json={"key": "greeting-2", "value": '{"n": 2}'}).status_code == 201
    assert api.http.post(base, json={"key": "other", "value": "1"}).status_code == 201

    taken = api.http.post(base, json={"key": "greeting-1", "value": '"again"'})
    assert taken.status_code == 409 and taken.json()["detail"] == "A flow run input with this key already exists."
    missing_run = api.http.post(f"/flow_runs/{uuid.uuid4()}/input", json={"key": "k", "value": "1"})
    assert missing_run.status_code == 404 and missing_run.json()["detail"] == "Flow run not found"
    assert api.http.post(base, json={"key": "Bad_Key", "value": "1"}).status_code == 422
    assert api.http.post(base, json={"key": "k"}).status_code == 422
    assert api.http.post(base, json={"key": "k", "value": 5}).status_code == 422
    assert api.http.get("/flow_runs/not-a-uuid/input/k").status_code == 404

    oldest = api.post(f"{base}/filter", {"prefix": "greeting"})
    assert [i["key"] for i in oldest] == ["greeting-1"] and oldest[0]["sender"] == "tester"
    assert set(oldest[0]) == {"id", "created", "updated", "flow_run_id", "key", "value", "sender"}
    rest = api.post(f"{base}/filter", {"prefix": "greeting", "limit": 10, "exclude_keys": ["greeting-1"]})
    assert [(i["key"], i["value"], i["sender"]) for i in rest] == [("greeting-2", '{"n": 2}', None)]
    assert api.post(f"/flow_runs/{uuid.uuid4()}/input/filter", {"prefix": ""}) == []
    assert api.http.post(f"{base}/filter", json={"limit": 3}).status_code == 422

    assert read_input(api, run_id, "greeting-2") == {"n": 2}
    assert api.http.delete(f"{base}/greeting-2").status_code == 204
    gone = api.http.delete(f"{base}/greeting-2")
    assert gone.status_code == 404 and gone.json()["detail"] == "Flow run input not found"
    assert api.http.get(f"{base}/greeting-2").status_code == 404

    # Resuming a run that is not paused: ABORT, as Prefect answers.
    not_paused = api.http.post(f"/flow_runs/{run_id}/resume", json={"run_input": {"a": 1}})
    assert not_paused.status_code == 200 and not_paused.json()["status"] == "ABORT"
