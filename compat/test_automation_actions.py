"""Automations that fire, with the real Prefect client: a SlackWebhook block whose URL is a receiver on loopback,
an `Automation(...).create()` on prefect.flow-run.Failed with a send-notification action, and a real @flow that
raises → the receiver gets one Slack-shaped request with the rendered subject and body. A proactive trigger fires
when the event it expects does not arrive within its `within`. A Webhook block is called with its method, headers
and the rendered payload; compound and sequence triggers fire once their children have; suspend-, resume-, cancel-, change-state- and delete-flow-run actions act on the run
their triggering event names, through the same orchestration rules as the API; pause/resume actions pause and
resume a deployment, a work pool and a work queue.

This module runs its own daemon (its config lets notification blocks reach loopback): on SQLite in its own
OSPREY_HOME, or, when the suite runs on PostgreSQL (OSPREY_COMPAT_DATABASE_URL), on a fresh database of the same
server, dropped afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from types import SimpleNamespace

import pytest

from harness import Api, Prefect, configured_osprey, wait_until
from receivers import Receiver

PROGRAM = textwrap.dedent('''
    """argv: what to do, then its arguments. Prints RESULT {...}."""
    import json
    import sys
    from datetime import timedelta

    from prefect import flow
    from prefect.automations import Automation
    from prefect.blocks.notifications import SlackWebhook
    from prefect.blocks.webhook import Webhook
    from prefect.client.schemas.objects import StateType
    from prefect.events import emit_event
    from prefect.events.actions import (CallWebhook, CancelFlowRun, ChangeFlowRunState, DeleteFlowRun, PauseDeployment,
                                        PauseWorkPool, PauseWorkQueue, ResumeDeployment, ResumeFlowRun, ResumeWorkPool,
                                        ResumeWorkQueue, SendNotification, SuspendFlowRun)
    from prefect.events.schemas.automations import CompoundTrigger, EventTrigger, Posture, SequenceTrigger

    what, args = sys.argv[1], sys.argv[2:]

    if what == "automation":
        name, url, posture = args
        block = SlackWebhook(url=url)
        block_id = block.save(name, overwrite=True)
        if posture == "Reactive":
            trigger = EventTrigger(expect={"prefect.flow-run.Failed"}, match={"prefect.resource.id": "prefect.flow-run.*"},
                                   for_each={"prefect.resource.id"}, posture=Posture.Reactive, threshold=1)
        else:
            trigger = EventTrigger(after={f"{name}.started"}, expect={f"{name}.finished"},
                                   for_each={"prefect.resource.id"}, posture=Posture.Proactive, threshold=1,
                                   within=timedelta(seconds=10))
        automation = Automation(
            name=name, trigger=trigger,
            actions=[SendNotification(block_document_id=block_id, subject="{{ automation.name }} fired",
                                      body="Run {{ event.resource.name }} ({{ event.event }})")]).create()
        print("RESULT " + json.dumps({"automation_id": str(automation.id)}))
    elif what == "fail":
        @flow(name=args[0])
        def doomed():
            raise RuntimeError("the warehouse is on fire")

        state = doomed(return_state=True)
        print("RESULT " + json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "state": state.type.value}))
    elif what == "webhook":
        name, url = args
        block_id = Webhook(method="PUT", url=url, headers={"X-Token": "s3cret"}).save(name, overwrite=True)
        automation = Automation(
            name=name, trigger=EventTrigger(expect={f"{name}.ping"}, posture=Posture.Reactive, threshold=1),
            actions=[CallWebhook(block_document_id=block_id,
                                 payload='{"pinged": "{{ event.resource.id }}", "by": "{{ automation.name }}"}')]).create()
        print("RESULT " + json.dumps({"automation_id": str(automation.id)}))
    elif what == "run-actions":
        name = args[0]
        made = {}
        for verb, action in [("suspend", SuspendFlowRun()), ("resume", ResumeFlowRun()), ("cancel", CancelFlowRun()),
                             ("fail", ChangeFlowRunState(state=StateType.FAILED, message=f"stopped by {name}")),
                             ("delete", DeleteFlowRun())]:
            trigger = EventTrigger(expect={f"{name}.{verb}"}, match={"prefect.resource.id": "prefect.flow-run.*"},
                                   posture=Posture.Reactive, threshold=1)
            made[verb] = str(Automation(name=f"{name}-{verb}", trigger=trigger, actions=[action]).create().id)
        print("RESULT " + json.dumps(made))
    elif what == "pause-actions":
        name, deployment_id, pool_id, queue_id = args
        made = {}
        for verb, actions in [("pause", [PauseDeployment(source="selected", deployment_id=deployment_id),
                                         PauseWorkPool(source="selected", work_pool_id=pool_id),
                                         PauseWorkQueue(source="selected", work_queue_id=queue_id)]),
                              ("resume", [ResumeDeployment(source="selected", deployment_id=deployment_id),
                                          ResumeWorkPool(source="selected", work_pool_id=pool_id),
                                          ResumeWorkQueue(source="selected", work_queue_id=queue_id)])]:
            trigger = EventTrigger(expect={f"{name}.{verb}"}, posture=Posture.Reactive, threshold=1)
            made[verb] = str(Automation(name=f"{name}-{verb}", trigger=trigger, actions=actions).create().id)
        print("RESULT " + json.dumps(made))
    elif what == "composite":
        name, url, kind = args
        block_id = SlackWebhook(url=url).save(name, overwrite=True)
        children = [EventTrigger(expect={f"{name}.{step}"}, posture=Posture.Reactive, threshold=1) for step in "ab"]
        trigger = (CompoundTrigger(require="all", within=timedelta(minutes=5), triggers=children) if kind == "compound"
                   else SequenceTrigger(within=timedelta(minutes=5), triggers=children))
        automation = Automation(name=name, trigger=trigger, actions=[
            SendNotification(block_document_id=block_id, subject=name, body="{{ event.event }}")]).create()
        print("RESULT " + json.dumps({"automation_id": str(automation.id)}))
    elif what == "emit":
        emit_event(event=args[0], resource={"prefect.resource.id": args[1], "prefect.resource.name": args[1]})
        print("RESULT {}")
''')


@pytest.fixture(scope="module")
def automating(tmp_path_factory):
    with Receiver(200, "ok", "text/plain") as slack, Receiver(201, '{"ok": true}') as webhook:
        config_text = textwrap.dedent("""\
            notifications:
              blocks_allow_private_network: true  # the Slack receiver is on loopback
              retry: {initial: 200ms, max: 1s}
            """)
        with configured_osprey(tmp_path_factory.mktemp("osprey-automation-home"), config_text) as daemon:
            workdir = tmp_path_factory.mktemp("automation-programs")
            program = workdir / "automation_program.py"
            program.write_text(PROGRAM)
            prefect = Prefect(daemon.api_url, tmp_path_factory.mktemp("automation-prefect-home"), workdir)
            yield SimpleNamespace(daemon=daemon, api=Api(daemon.api_url), slack=slack, webhook=webhook,
                                  prefect=prefect, program=program)


def run(n: SimpleNamespace, *args: str) -> dict:
    done = subprocess.run([sys.executable, str(n.program), *args], env=n.prefect.env, cwd=n.program.parent,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert results, f"the program exited {done.returncode} without a result:\n{(done.stdout + done.stderr)[-4000:]}"
    return json.loads(results[-1][len("RESULT "):])


def slack_texts(n: SimpleNamespace, name: str) -> list[str]:
    return [text for r in n.slack.requests if name in (text := r.json().get("text", ""))]


def events_named(n: SimpleNamespace, name: str, resource: str) -> list[dict]:
    page = n.api.post("/events/filter", {"filter": {"event": {"name": [name]}, "resource": {"id": [resource]}},
                                         "limit": 50})
    return page["events"]


def test_a_failing_flow_run_sends_the_automations_slack_message(automating):
    n = automating
    name = f"slack-{uuid.uuid4().hex[:8]}"
    automation_id = run(n, "automation", name, n.slack.url, "Reactive")["automation_id"]
    failed = run(n, "fail", f"{name}-flow")
    assert failed["state"] == "FAILED", failed
    wait_until(lambda: slack_texts(n, name), timeout=30, what="the Slack receiver to get the automation's message")
    [text] = slack_texts(n, name)
    assert text.startswith(f"{name} fired\nRun "), text
    assert "(prefect.flow-run.Failed)" in text, text
    request = next(r for r in n.slack.requests if name in r.json().get("text", ""))
    assert request.headers.get("content-type") == "application/json"
    resource = f"prefect.automation.{automation_id}"
    wait_until(lambda: events_named(n, "prefect.automation.action.executed", resource), timeout=30,
               what="prefect.automation.action.executed")
    assert len(events_named(n, "prefect.automation.triggered", resource)) == 1
    [job] = [j for j in n.api.get("/notifications/outbox", limit=10000) if j.get("kind") == "action"
             and j.get("policy_name") == f"automation/{automation_id}"]
    assert job["status"] == "delivered", job


def test_a_proactive_trigger_fires_when_the_expected_event_does_not_come(automating):
    n = automating
    name = f"quiet-{uuid.uuid4().hex[:8]}"
    run(n, "automation", name, n.slack.url, "Proactive")
    run(n, "emit", f"{name}.started", f"{name}.job-1")  # ... and no finished: the trigger fires after ~10 s
    run(n, "emit", f"{name}.started", f"{name}.job-2")
    run(n, "emit", f"{name}.finished", f"{name}.job-2")  # this one finished in time
    wait_until(lambda: slack_texts(n, f"{name}.job-1"), timeout=40, what="the proactive trigger to fire")
    assert not slack_texts(n, f"{name}.job-2")
    [text] = slack_texts(n, name)
    assert f"Run {name}.job-1 ({name}.started)" in text, text


def executed(n: SimpleNamespace, automation_id: str) -> list[dict]:
    return events_named(n, "prefect.automation.action.executed", f"prefect.automation.{automation_id}")


def outcome(n: SimpleNamespace, automation_id: str) -> dict:
    """The automation's one action.executed or action.failed event, once there is one."""
    resource = f"prefect.automation.{automation_id}"
    def ended() -> list[dict]:
        return (events_named(n, "prefect.automation.action.executed", resource) +
                events_named(n, "prefect.automation.action.failed", resource))
    [event] = wait_until(ended, timeout=30, what=f"the action of automation {automation_id} to end")
    return event


def test_a_call_webhook_action_sends_the_rendered_payload_with_the_blocks_method_and_headers(automating):
    n = automating
    name = f"hook-{uuid.uuid4().hex[:8]}"
    automation_id = run(n, "webhook", name, n.webhook.url)["automation_id"]
    run(n, "emit", f"{name}.ping", f"{name}.source")
    [request] = wait_until(lambda: [r for r in n.webhook.requests if name.encode() in r.body], timeout=30,
                           what="the webhook receiver to be called")
    assert request.method == "PUT"
    assert request.headers.get("x-token") == "s3cret"
    assert json.loads(request.body) == {"pinged": f"{name}.source", "by": name}
    event = outcome(n, automation_id)
    assert event["event"] == "prefect.automation.action.executed", event
    assert event["payload"]["status_code"] == 201
    assert {"prefect.resource.role": "block", "prefect.resource.name": name}.items() <= next(
        r for r in event["related"] if r["prefect.resource.role"] == "block").items()


def deployment_run(n: SimpleNamespace, name: str) -> tuple[str, str]:
    """A deployment of a new flow and one of its runs, Running (as if a worker had started it)."""
    flow_id = n.api.post("/flows/", {"name": f"{name}-flow"})["id"]
    deployment_id = n.api.post("/deployments/", {"name": name, "flow_id": flow_id})["id"]
    run_id = n.api.post(f"/deployments/{deployment_id}/create_flow_run", {})["id"]
    for state in ("PENDING", "RUNNING"):
        n.api.post(f"/flow_runs/{run_id}/set_state", {"state": {"type": state}})
    return deployment_id, run_id


def test_flow_run_actions_act_on_the_run_their_event_names(automating):
    n = automating
    name = f"runs-{uuid.uuid4().hex[:8]}"
    automations = run(n, "run-actions", name)
    _, suspended = deployment_run(n, f"{name}-a")
    run(n, "emit", f"{name}.suspend", f"prefect.flow-run.{suspended}")
    paused = n.api.wait_for_flow_run(suspended, "PAUSED")
    assert paused["state"]["name"] == "Suspended"
    assert paused["state"]["message"] == f"Suspended by Automation {automations['suspend']}"
    run(n, "emit", f"{name}.resume", f"prefect.flow-run.{suspended}")
    resumed = n.api.wait_for_flow_run(suspended, "SCHEDULED")
    assert resumed["state"]["name"] == "Resuming"  # a suspended run is rescheduled for its deployment
    run(n, "emit", f"{name}.cancel", f"prefect.flow-run.{suspended}")
    n.api.wait_for_flow_run(suspended, "CANCELLED")  # nothing runs it, so Cancelling goes straight to Cancelled
    assert n.api.flow_run_state_names(suspended)[-3:] == ["Suspended", "Resuming", "Cancelled"]
    # Prefect counts a rejected proposal as a failed action, even when the rule wrote Cancelled instead.
    cancel = outcome(n, automations["cancel"])
    assert cancel["event"] == "prefect.automation.action.failed"
    assert cancel["payload"]["reason"] == "Failed to set state: Scheduled flow run has no infrastructure to terminate."

    _, failing = deployment_run(n, f"{name}-b")
    run(n, "emit", f"{name}.fail", f"prefect.flow-run.{failing}")
    failed = n.api.wait_for_flow_run(failing, "FAILED")
    assert failed["state"]["message"] == f"stopped by {name}"
    target = next(r for r in outcome(n, automations["fail"])["related"] if r["prefect.resource.role"] == "target")
    assert target["prefect.resource.id"] == f"prefect.flow-run.{failing}"

    _, doomed = deployment_run(n, f"{name}-c")
    run(n, "emit", f"{name}.delete", f"prefect.flow-run.{doomed}")
    wait_until(lambda: n.api.status("GET", f"/flow_runs/{doomed}") == 404, timeout=30, what="the run to be deleted")
    assert outcome(n, automations["delete"])["event"] == "prefect.automation.action.executed"


def test_pause_and_resume_actions_pause_a_deployment_a_work_pool_and_a_work_queue(automating):
    n = automating
    name = f"pause-{uuid.uuid4().hex[:8]}"
    flow_id = n.api.post("/flows/", {"name": f"{name}-flow"})["id"]
    pool = n.api.post("/work_pools/", {"name": f"{name}-pool", "type": "process"})
    queue = n.api.post(f"/work_pools/{name}-pool/queues", {"name": "urgent"})
    deployment_id = n.api.post("/deployments/", {"name": name, "flow_id": flow_id, "work_pool_name": f"{name}-pool"})["id"]
    automations = run(n, "pause-actions", name, deployment_id, pool["id"], queue["id"])

    def paused() -> tuple[bool, bool, bool]:
        return (n.api.get(f"/deployments/{deployment_id}")["paused"],
                n.api.get(f"/work_pools/{name}-pool")["is_paused"],
                n.api.get(f"/work_pools/{name}-pool/queues/urgent")["is_paused"])

    run(n, "emit", f"{name}.pause", f"{name}.source")
    wait_until(lambda: paused() == (True, True, True), timeout=30, what=lambda: f"all three paused: {paused()}")
    assert n.api.get(f"/work_pools/{name}-pool")["status"] == "PAUSED"
    run(n, "emit", f"{name}.resume", f"{name}.source")
    wait_until(lambda: paused() == (False, False, False), timeout=30, what=lambda: f"all three resumed: {paused()}")
    assert n.api.get(f"/work_pools/{name}-pool")["status"] == "NOT_READY"  # no worker is online
    wait_until(lambda: len(executed(n, automations["resume"])) == 3, timeout=30, what="three executed actions")


@pytest.mark.parametrize("kind, steps", [("compound", ["a", "a", "b"]), ("sequence", ["b", "a", "b"])])
def test_composite_triggers_fire_once_their_children_have(automating, kind, steps):
    """A compound trigger needing both children fires on the second child's event; a sequence ignores b before a,
    and fires on the b that follows a."""
    n = automating
    name = f"{kind}-{uuid.uuid4().hex[:8]}"
    automation_id = run(n, "composite", name, n.slack.url, kind)["automation_id"]
    for step in steps:
        run(n, "emit", f"{name}.{step}", f"{name}.source")
    wait_until(lambda: slack_texts(n, name), timeout=30, what=f"the {kind} trigger to fire")
    wait_until(lambda: executed(n, automation_id), timeout=30, what="prefect.automation.action.executed")
    assert slack_texts(n, name) == [f"{name}\n{name}.b"]  # once, on the last event
    [triggered] = events_named(n, "prefect.automation.triggered", f"prefect.automation.{automation_id}")
    assert "prefect.posture" not in triggered["resource"]
