"""Scenario: automations. The client's `Automation(...).create()`, `read(id=…)`, `read(name=…)`, `update()`,
`disable()`/`enable()` and `delete()` against Osprey, and the `prefect automation` CLI (ls, inspect, pause,
resume, delete): automations are stored and served as Prefect's server stores and serves them. What they do when
they fire is in test_automation_actions.py."""

import json
import uuid


def test_the_client_creates_reads_updates_pauses_and_deletes_an_automation(prefect, api):
    prefix = f"auto-{uuid.uuid4().hex[:8]}"
    seen = prefect.run("automations_client", prefix)
    assert seen["by_id"] == {"name": f"{prefix}-failures", "description": "tell someone", "enabled": True,
                             "threshold": 2, "within": 300.0, "expect": ["prefect.flow-run.Failed"],
                             "actions": ["do-nothing", "cancel-flow-run", "run-deployment", "change-flow-run-state"],
                             "parameters": {"x": 1}}
    assert seen["same_by_name"] is True
    assert seen["updated"] == {"name": f"{prefix}-renamed", "trigger": "compound", "require": "any",
                               "children": ["Reactive", "Proactive"], "actions": ["pause-deployment"]}
    assert (seen["disabled"], seen["after_disable"]) == (True, False)
    assert (seen["enabled"], seen["after_enable"]) == (True, True)
    assert seen["deleted"] is True
    assert "not found" in seen["read_after_delete"]
    assert api.status("GET", f"/automations/{seen['created_id']}") == 404


def test_the_automation_cli_lists_inspects_pauses_resumes_and_deletes(prefect, api):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = api.post("/automations/", {"name": name, "trigger": {"posture": "Reactive", "expect": ["x.y"]},
                                         "actions": [{"type": "do-nothing"}]})
    assert name in prefect.cli("automation", "ls")
    shown = json.loads(prefect.cli("automation", "inspect", name, "--output", "json"))  # every match of the name
    assert [(a["name"], a["trigger"]["posture"]) for a in shown] == [(name, "Reactive")]
    prefect.cli("automation", "pause", name)
    assert api.get(f"/automations/{created['id']}")["enabled"] is False
    prefect.cli("automation", "resume", name)
    assert api.get(f"/automations/{created['id']}")["enabled"] is True
    prefect.cli("automation", "delete", name)  # stdin is not a terminal: no confirmation asked
    assert api.status("GET", f"/automations/{created['id']}") == 404
