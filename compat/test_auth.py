"""server.auth_string with the real client: PREFECT_API_AUTH_STRING set to the same secret runs flows and tasks
(HTTP calls and the events websocket); without it, or with another one, the client is refused."""

import httpx
import pytest

from harness import Osprey, Prefect

SECRET = "admin:compat-pass"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, osprey):
    home = tmp_path_factory.mktemp("osprey-auth-home")
    config = home / "osprey.yaml"
    config.write_text(f'server:\n  auth_string: "{SECRET}"\n')
    # Its own SQLite database: what is checked here is the HTTP and websocket layer, not storage.
    daemon = Osprey(osprey.binary, home, None, config)
    daemon.start()
    yield daemon
    assert daemon.stop() == 0, daemon.output()


def client(daemon, tmp_path_factory, secret):
    prefect = Prefect(daemon.api_url, tmp_path_factory.mktemp("prefect-auth-home"), tmp_path_factory.mktemp("programs"))
    if secret is not None:
        prefect.env["PREFECT_API_AUTH_STRING"] = secret
    return prefect


def test_a_flow_with_tasks_runs_with_the_secret(guarded, tmp_path_factory):
    prefect = client(guarded, tmp_path_factory, SECRET)
    try:
        run = prefect.run("tasks_fan_out")
    finally:
        prefect.kill_leftovers()
    assert run["result"] == 2 + 2 * sum(range(5)) + 2 * sum(range(100))
    api = httpx.Client(base_url=guarded.api_url, auth=tuple(SECRET.split(":", 1)), trust_env=False, timeout=15)
    flow_run = api.get(f"/flow_runs/{run['flow_run_id']}").json()
    assert flow_run["state_type"] == "COMPLETED"
    # The task runs came through the events websocket, authenticated with the secret as its token.
    counted = api.post("/task_runs/count", json={"flow_runs": {"id": {"any_": [run["flow_run_id"]]}}}).json()
    assert counted == 106


@pytest.mark.parametrize("secret", [None, "admin:wrong"])
def test_the_client_is_refused_without_the_secret(guarded, tmp_path_factory, secret):
    prefect = client(guarded, tmp_path_factory, secret)
    out = prefect.cli("flow", "ls", expect_exit=1)
    assert "401" in out or "Unauthorized" in out, out
    assert httpx.get(guarded.api_url + "/health", trust_env=False).status_code == 200
