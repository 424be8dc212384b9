"""Scenario: task and global concurrency limits. Tagged tasks run with no limit at all (Prefect 3.9.1 asks for
slots on "tag:<tag>" for every tagged task), a tag limit created with `prefect concurrency-limit create` caps how
many run at once, `concurrency(name)` on a global limit of 1 serialises flows in separate processes, and the slot
of a client killed while holding it comes back when its lease runs out."""

import json
import uuid

from harness import wait_until


def test_tagged_tasks_without_a_limit_complete(prefect, api, tmp_path):
    tag = f"db-{uuid.uuid4().hex[:8]}"
    run = prefect.run("tagged_tasks", tag, 5, 0.05, tmp_path / "counter")
    assert run["result"] == sum(range(5))
    assert api.flow_run(run["flow_run_id"])["state_type"] == "COMPLETED"
    recorded = api.wait_for_task_runs(run["task_run_ids"])
    assert all(r["tags"] == [tag] for r in recorded.values())


def test_a_tag_limit_caps_running_tasks_and_frees_every_slot(prefect, api, tmp_path):
    tag = f"db-{uuid.uuid4().hex[:8]}"
    assert "Created concurrency limit" in prefect.cli("concurrency-limit", "create", tag, "3")
    run = prefect.run("tagged_tasks", tag, 20, 0.3, tmp_path / "counter", timeout=240)
    assert run["result"] == sum(range(20))
    assert run["running"] == 0
    assert 1 <= run["peak"] <= 3, run
    api.wait_for_task_runs(run["task_run_ids"])
    limit = api.get(f"/v2/concurrency_limits/tag:{tag}")
    assert (limit["limit"], limit["active_slots"]) == (3, 0)

    shown = json.loads(prefect.cli("concurrency-limit", "inspect", tag, "--output", "json"))
    assert (shown["tag"], shown["concurrency_limit"], shown["active_slots"]) == (tag, 3, [])
    assert tag in prefect.cli("concurrency-limit", "ls")
    assert "Reset concurrency limit" in prefect.cli("concurrency-limit", "reset", tag)
    assert "Deleted concurrency limit" in prefect.cli("concurrency-limit", "delete", tag)
    assert api.status("GET", f"/v2/concurrency_limits/tag:{tag}") == 404


def test_a_global_limit_of_one_serialises_flows(prefect, api, tmp_path):
    name = f"section-{uuid.uuid4().hex[:8]}"
    assert "Created global concurrency limit" in prefect.cli("gcl", "create", name, "--limit", "1")
    go = tmp_path / "go"
    programs = [prefect.start("limited_section", name, go) for _ in range(3)]
    for program in programs:
        program.wait_for("ready", timeout=120)
    go.touch()
    held = sorted(tuple(program.finish(timeout=180)["held"]) for program in programs)
    for (_, end), (start, _) in zip(held, held[1:]):
        assert start >= end, f"two flows held the slot at once: {held}"
    assert wait_until(lambda: api.get(f"/v2/concurrency_limits/{name}")["active_slots"] == 0, timeout=10,
                      what="the limit's slot to be free again")


def test_a_killed_clients_lease_expires_and_frees_its_slot(prefect, api):
    name = f"held-{uuid.uuid4().hex[:8]}"
    prefect.cli("gcl", "create", name, "--limit", "1")
    holder = prefect.start("slot_holder", name)
    holder.wait_for("holding", timeout=120)
    assert api.get(f"/v2/concurrency_limits/{name}")["active_slots"] == 1
    holder.kill()  # SIGKILL: no release, no more lease renewals
    # The lease (60 s) runs out and the lease reaper (every 15 s) gives the slot back.
    wait_until(lambda: api.get(f"/v2/concurrency_limits/{name}")["active_slots"] == 0, timeout=120,
               what="the dead holder's slot to be reclaimed")
    again = prefect.start("slot_holder", name)
    again.wait_for("holding", timeout=120)
    again.kill()
