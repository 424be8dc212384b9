"""API keys (server.require_api_key) with the real client: a write key given as PREFECT_API_AUTH_STRING runs a
flow with tasks (HTTP calls and the events websocket); a read key given as PREFECT_API_KEY (the Bearer header)
lists flows but cannot run one; a revoked key is refused."""

import os
import subprocess

import httpx
import pytest

from harness import Osprey, Prefect, wait_until


def osprey_cli(daemon, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "OSPREY_"))}
    env["OSPREY_HOME"] = str(daemon.home)
    out = subprocess.run([str(daemon.binary), *args, "--config", str(daemon.config)], env=env,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, osprey):
    home = tmp_path_factory.mktemp("osprey-api-key-home")
    config = home / "osprey.yaml"
    config.write_text("server:\n  require_api_key: true\n")
    daemon = Osprey(osprey.binary, home, None, config)
    daemon.start()
    yield daemon
    assert daemon.stop() == 0, daemon.output()


def new_key(daemon, name, scope):
    return osprey_cli(daemon, "api-key", "create", "--name", name, "--scope", scope).strip()


def client(daemon, tmp_path_factory, **env):
    prefect = Prefect(daemon.api_url, tmp_path_factory.mktemp("prefect-key-home"), tmp_path_factory.mktemp("programs"))
    prefect.env.update(env)
    return prefect


def test_a_write_key_as_the_auth_string_runs_a_flow_with_tasks(guarded, tmp_path_factory):
    key = new_key(guarded, "flows", "write")
    prefect = client(guarded, tmp_path_factory, PREFECT_API_AUTH_STRING=key)
    try:
        run = prefect.run("tasks_fan_out")
    finally:
        prefect.kill_leftovers()
    api = httpx.Client(base_url=guarded.api_url, headers={"Authorization": f"Bearer {key}"}, trust_env=False,
                       timeout=15)
    assert api.get(f"/flow_runs/{run['flow_run_id']}").json()["state_type"] == "COMPLETED"
    # The task runs came through the events websocket, authenticated with the key as its token.
    counted = api.post("/task_runs/count", json={"flow_runs": {"id": {"any_": [run["flow_run_id"]]}}}).json()
    assert counted == 106


def test_a_read_key_lists_but_cannot_write(guarded, tmp_path_factory):
    key = new_key(guarded, "dashboards", "read")
    prefect = client(guarded, tmp_path_factory, PREFECT_API_KEY=key)
    prefect.cli("flow", "ls")
    out = prefect.cli("variable", "set", "answer", "42", expect_exit=1)
    assert "403" in out or "scope" in out, out


def test_a_revoked_key_is_refused(guarded, tmp_path_factory):
    key = new_key(guarded, "leaver", "write")
    api = httpx.Client(base_url=guarded.api_url, headers={"Authorization": f"Bearer {key}"}, trust_env=False,
                       timeout=15)
    assert api.post("/flows/filter", json={}).status_code == 200
    osprey_cli(guarded, "api-key", "revoke", "leaver")
    wait_until(lambda: api.post("/flows/filter", json={}).status_code == 401, timeout=20,
               what="the revoked key to be refused")
    prefect = client(guarded, tmp_path_factory, PREFECT_API_AUTH_STRING=key)
    out = prefect.cli("flow", "ls", expect_exit=1)
    assert "401" in out or "Unauthorized" in out, out
