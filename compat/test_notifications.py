"""Notifications with the real Prefect client: an Osprey started with a `notifications:` config (a PagerDuty
channel whose api_url is a receiver on loopback, and a policy on Failed runs tagged prod) alerts exactly once
when a real @flow tagged prod raises, and not for a successful or an untagged run.

This module runs its own daemon (it needs --config): on SQLite in its own OSPREY_HOME, or, when the suite runs on
PostgreSQL (OSPREY_COMPAT_DATABASE_URL), on a fresh database of the same server, dropped afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from harness import Api, Prefect, configured_osprey, wait_until
from receivers import Receiver

ROUTING_KEY = "R0UTINGKEY00000000000000000COMPAT"

PROGRAM = textwrap.dedent('''
    """argv: fail|ok, the flow's name, then the run's tags. Prints RESULT {flow_run_id, state}."""
    import json
    import sys

    from prefect import flow, tags

    outcome, name, run_tags = sys.argv[1], sys.argv[2], sys.argv[3:]


    @flow(name=name)
    def notified(fail: bool):
        if fail:
            raise RuntimeError("the warehouse is on fire")
        return "fine"


    with tags(*run_tags):
        state = notified(outcome == "fail", return_state=True)
    print("RESULT " + json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "state": state.type.value}))
''')


@pytest.fixture(scope="module")
def notifying(tmp_path_factory):
    with Receiver(202, '{"status":"success","message":"Event processed","dedup_key":"x"}') as pagerduty:
        config_text = textwrap.dedent(f"""\
            notifications:
              ui_url: http://127.0.0.1:4200
              retry: {{initial: 200ms, max: 1s}}
              channels:
                - name: pager
                  type: pagerduty
                  allow_private_network: true  # the receiver is on loopback
                  routing_key: "{ROUTING_KEY}"
                  api_url: "{pagerduty.url}"
              policies:
                - name: prod-failures
                  match: {{state_names: [Failed], tags_any: [prod]}}
                  channels: [pager]
            """)
        with configured_osprey(tmp_path_factory.mktemp("osprey-notify-home"), config_text) as daemon:
            assert "1 channel(s), 1 active policy(ies)" in daemon.output(), daemon.output()
            workdir = tmp_path_factory.mktemp("notify-programs")
            program = workdir / "notified_flow.py"
            program.write_text(PROGRAM)
            prefect = Prefect(daemon.api_url, tmp_path_factory.mktemp("notify-prefect-home"), workdir)
            yield SimpleNamespace(daemon=daemon, api=Api(daemon.api_url), pagerduty=pagerduty, prefect=prefect,
                                  program=program)


def run_flow(n: SimpleNamespace, outcome: str, name: str, *tags: str) -> dict:
    """Runs the program to completion with the real Prefect client; returns {flow_run_id, state}."""
    done = subprocess.run([sys.executable, str(n.program), outcome, name, *tags], env=n.prefect.env,
                          cwd=n.program.parent, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    output = done.stdout + done.stderr
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert results, f"the flow program exited {done.returncode} without a result:\n{output[-4000:]}"
    return json.loads(results[-1][len("RESULT "):])


def jobs_of(n: SimpleNamespace, flow_run_id: str) -> list[dict]:
    return [j for j in n.api.get("/notifications/outbox", limit=10000) if j["flow_run_id"] == flow_run_id]


def pages_for(n: SimpleNamespace, flow_run_id: str) -> list[dict]:
    return [event for r in n.pagerduty.requests if flow_run_id in (event := r.json()).get("dedup_key", "")]


def test_a_failing_prod_flow_pages_exactly_once(notifying):
    n = notifying
    run = run_flow(n, "fail", "warehouse-loader", "prod", "etl")
    assert run["state"] == "FAILED", run
    run_id = run["flow_run_id"]
    assert n.api.flow_run(run_id)["state_type"] == "FAILED"

    wait_until(lambda: pages_for(n, run_id), timeout=30, what=f"a PagerDuty event for {run_id}")
    jobs = wait_until(lambda: (jobs := jobs_of(n, run_id)) and all(j["status"] != "pending" for j in jobs) and jobs,
                      timeout=30, what=lambda: f"the outbox job of {run_id} to settle: {jobs_of(n, run_id)}")
    assert [(j["policy_name"], j["channel_name"], j["status"], j["attempts"]) for j in jobs] == [
        ("prod-failures", "pager", "delivered", 1)]

    # Delivered, so everything there was to send was sent: one trigger, no repeat.
    pages = pages_for(n, run_id)
    assert len(pages) == 1, pages
    event = pages[0]
    request = next(r for r in n.pagerduty.requests if run_id in r.json().get("dedup_key", ""))
    assert (request.method, request.path) == ("POST", "/v2/enqueue")
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == f"osprey/prod-failures/{run_id}"
    assert "warehouse-loader" in event["payload"]["summary"], event["payload"]
    assert "Failed" in event["payload"]["summary"], event["payload"]
    assert event["payload"]["severity"] == "error"
    assert event["payload"]["source"] == "osprey"
    assert event["payload"]["component"] == "warehouse-loader"
    assert ROUTING_KEY not in n.daemon.output()


def test_a_successful_prod_flow_pages_nobody(notifying):
    n = notifying
    run = run_flow(n, "ok", "warehouse-loader", "prod")
    assert run["state"] == "COMPLETED", run
    # The outbox is written in the transaction that stores the state, so a finished run has all its jobs.
    assert n.api.flow_run(run["flow_run_id"])["state_type"] == "COMPLETED"
    assert jobs_of(n, run["flow_run_id"]) == []
    assert pages_for(n, run["flow_run_id"]) == []


def test_a_failing_untagged_flow_pages_nobody(notifying):
    n = notifying
    run = run_flow(n, "fail", "warehouse-loader", "dev")
    assert run["state"] == "FAILED", run
    assert n.api.flow_run(run["flow_run_id"])["state_type"] == "FAILED"
    assert jobs_of(n, run["flow_run_id"]) == []
    assert pages_for(n, run["flow_run_id"]) == []
