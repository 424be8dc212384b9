"""Automations that fire, with the real Prefect client: a SlackWebhook block whose URL is a receiver on loopback,
an `Automation(...).create()` on prefect.flow-run.Failed with a send-notification action, and a real @flow that
raises → the receiver gets one Slack-shaped request with the rendered subject and body. A proactive trigger fires
when the event it expects does not arrive within its `within`.

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
    from prefect.events import emit_event
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

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
    elif what == "emit":
        emit_event(event=args[0], resource={"prefect.resource.id": args[1], "prefect.resource.name": args[1]})
        print("RESULT {}")
''')


@pytest.fixture(scope="module")
def automating(tmp_path_factory):
    with Receiver(200, "ok", "text/plain") as slack:
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
            yield SimpleNamespace(daemon=daemon, api=Api(daemon.api_url), slack=slack, prefect=prefect,
                                  program=program)


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
