"""server.csrf_protection with the real client: it fetches a token from /api/csrf-token by itself and runs flows
and tasks; a request without the token (what a foreign web page could make a browser send) is refused and
stores nothing."""

import httpx
import pytest

from harness import Osprey, Prefect


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, osprey):
    home = tmp_path_factory.mktemp("osprey-csrf-home")
    config = home / "osprey.yaml"
    config.write_text("server:\n  csrf_protection: true\n")
    # Its own SQLite database: what is checked here is the HTTP layer, not storage.
    daemon = Osprey(osprey.binary, home, None, config)
    daemon.start()
    yield daemon
    assert daemon.stop() == 0, daemon.output()


def test_the_client_runs_flows_with_the_tokens_it_fetches(guarded, tmp_path_factory):
    prefect = Prefect(guarded.api_url, tmp_path_factory.mktemp("prefect-csrf-home"),
                      tmp_path_factory.mktemp("programs"))
    try:
        run = prefect.run("tasks_fan_out")
    finally:
        prefect.kill_leftovers()
    assert run["result"] == 2 + 2 * sum(range(5)) + 2 * sum(range(100))
    api = httpx.Client(base_url=guarded.api_url, trust_env=False, timeout=15)
    assert api.get(f"/flow_runs/{run['flow_run_id']}").json()["state_type"] == "COMPLETED"
    # Writes from the CLI carry tokens too.
    out = prefect.cli("variable", "set", "csrf_checked", "yes")
    assert api.get("/variables/name/csrf_checked").json()["value"] == "yes", out


def test_a_write_without_a_token_is_refused_and_stores_nothing(guarded):
    api = httpx.Client(base_url=guarded.api_url, trust_env=False, timeout=15)
    refused = api.post("/flows/", json={"name": "forged"})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Missing CSRF token."}
    assert api.get("/flows/name/forged").status_code == 404
    token = api.get("/csrf-token", params={"client": "compat"}).json()
    assert len(token["token"]) == 64 and token["client"] == "compat"
    forged = api.post("/flows/", json={"name": "forged"},
                      headers={"Prefect-Csrf-Token": "0" * 64, "Prefect-Csrf-Client": "compat"})
    assert forged.status_code == 403
    assert forged.json() == {"detail": "Invalid CSRF token or client identifier."}
    made = api.post("/flows/", json={"name": "forged"},
                    headers={"Prefect-Csrf-Token": token["token"], "Prefect-Csrf-Client": "compat"})
    assert made.status_code == 201, made.text
    assert api.get("/admin/settings").json()["server"]["api"][
        "csrf_protection_enabled"] is True
