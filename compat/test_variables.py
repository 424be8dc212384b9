"""Scenario: variables. A flow sets, reads, overwrites and unsets variables of every JSON kind through
`prefect.variables.Variable`; the `prefect variable` CLI sets, gets, lists, inspects and unsets them."""

import json
import uuid


def test_a_flow_sets_reads_overwrites_and_unsets_variables(prefect, api):
    prefix = f"v_{uuid.uuid4().hex[:8]}"
    run = prefect.run("variables_flow", prefix)
    assert run["state"] == "COMPLETED", run
    result = run["result"]
    assert result["read"] == {"text": "hello", "number": 42, "real": 2.5, "flag": True, "listing": [1, "two", None],
                              "mapping": {"nested": {"deep": [1, 2]}}}
    assert result["refused_without_overwrite"] is True
    assert result["after_overwrite"] == "updated"
    assert (result["unset"], result["after_unset"], result["unset_again"]) == (True, "gone", False)

    stored = api.get(f"/variables/name/{prefix}_mapping")
    assert (stored["value"], stored["tags"]) == ({"nested": {"deep": [1, 2]}}, ["compat", "mapping"])
    assert api.status("GET", f"/variables/name/{prefix}_flag") == 404
    assert api.post("/variables/count", {"variables": {"name": {"like_": prefix}}}) == 5


def test_the_variable_cli_sets_gets_lists_and_unsets(prefect, api):
    name = f"cli_{uuid.uuid4().hex[:8]}"
    assert "Set variable" in prefect.cli("variable", "set", name, '{"retries": 3}', "--tag", "ops")
    assert json.loads(prefect.cli("variable", "get", name).strip()) == {"retries": 3}
    prefect.cli("variable", "set", name, "plain text", expect_exit=1)  # exists: needs --overwrite
    assert "Set variable" in prefect.cli("variable", "set", name, "plain text", "--overwrite", "--tag", "ops")
    assert json.loads(prefect.cli("variable", "get", name)) == "plain text"
    assert name in prefect.cli("variable", "ls")
    listed = json.loads(prefect.cli("variable", "ls", "--output", "json"))
    assert [v["value"] for v in listed if v["name"] == name] == ["plain text"]
    shown = json.loads(prefect.cli("variable", "inspect", name, "--output", "json"))
    assert (shown["name"], shown["value"], shown["tags"]) == (name, "plain text", ["ops"])
    assert "Unset variable" in prefect.cli("variable", "unset", name)
    assert api.status("GET", f"/variables/name/{name}") == 404
    prefect.cli("variable", "get", name, expect_exit=1)
