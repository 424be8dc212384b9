"""Scenario: blocks. Secrets and JSON saved by one process are loaded by another (secret values hidden from plain
reads, stored encrypted), a custom block type is registered with `prefect block register -m`, and the block CLI
lists what is stored."""

import uuid
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def test_secret_and_json_blocks_load_in_another_process(prefect, api):
    suffix = uuid.uuid4().hex[:8]
    saved = prefect.run("blocks_roundtrip", "save", suffix)
    assert saved["saved"] is True
    assert "already in use" in saved["duplicate"], saved

    loaded = prefect.run("blocks_roundtrip", "load", suffix)
    assert loaded["token"] == f"rotated-{suffix}"
    assert loaded["login"] == {"user": "ada", "password": f"pw-{suffix}", "ports": [1, 2.5]}
    assert (loaded["city"], loaded["api_key"]) == ("Oslo", f"key-{suffix}")
    assert loaded["options"] == {"units": "metric", "days": 3}

    plain = api.get(f"/block_types/slug/secret/block_documents/name/token-{suffix}")
    assert plain["data"] == {"value": "********"}
    assert plain["block_schema"]["fields"]["secret_fields"] == ["value", "value"]
    revealed = api.get(f"/block_types/slug/secret/block_documents/name/token-{suffix}", include_secrets="true")
    assert revealed["data"] == {"value": f"rotated-{suffix}"}
    weather = api.get(f"/block_types/slug/weatherservice/block_documents/name/oslo-{suffix}")
    assert weather["data"]["api_key"] == "********" and weather["data"]["city"] == "Oslo"


def test_a_block_registered_from_a_module_is_saved_loaded_and_listed(prefect, api):
    out = prefect.cli("block", "register", "-m", "weather_blocks", env={"PYTHONPATH": str(SCENARIOS)})
    assert "Successfully registered 1 block" in out, out
    assert prefect.cli("block", "register", "-m", "weather_blocks", env={"PYTHONPATH": str(SCENARIOS)})  # again: no-op
    kind = api.get("/block_types/slug/weatherservice")
    assert (kind["name"], kind["is_protected"]) == ("WeatherService", False)

    suffix = uuid.uuid4().hex[:8]
    prefect.run("blocks_roundtrip", "save", suffix)
    assert prefect.run("blocks_roundtrip", "load", suffix)["api_key"] == f"key-{suffix}"

    listed = prefect.cli("block", "ls")
    assert f"oslo-{suffix}" in listed and f"token-{suffix}" in listed, listed
    types = prefect.cli("block", "type", "ls")
    assert "weatherservice" in types and "secret" in types, types
    shown = prefect.cli("block", "inspect", f"weatherservice/oslo-{suffix}")
    assert "********" in shown and f"key-{suffix}" not in shown, shown
    assert "Deleted Block" in prefect.cli("block", "delete", f"weatherservice/oslo-{suffix}")
    assert api.status("GET", f"/block_types/slug/weatherservice/block_documents/name/oslo-{suffix}") == 404


def test_the_system_block_types_are_there_from_the_start(api):
    slugs = {t["slug"] for t in api.post("/block_types/filter", {})}
    assert {"secret", "webhook", "local-file-system", "slack-webhook", "s3-bucket"} <= slugs
    secret = api.get("/block_types/slug/secret")
    assert secret["is_protected"] is True
    assert api.status("DELETE", f"/block_types/{secret['id']}") == 403
    assert "write-path" in api.get("/block_capabilities/")
