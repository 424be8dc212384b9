"""The server's default result storage (/api/admin/storage): `prefect experimental result-storage set` names a
LocalFileSystem block, and flows that persist results without a result storage setting of their own write them into
it; `clear` sends them back to the client's local default."""
import pytest

BLOCK = "osprey-default-results"


@pytest.fixture
def storage(prefect, tmp_path):
    base = tmp_path / "server-default-results"
    base.mkdir()
    prefect.run("server_default_storage", "save", BLOCK, str(base))
    yield base
    prefect.cli("experimental", "result-storage", "clear")  # the server is shared by the whole suite


def test_results_go_to_the_block_the_server_names(prefect, api, storage):
    assert "No default result storage is configured" in prefect.cli("experimental", "result-storage", "inspect")
    prefect.cli("experimental", "result-storage", "set", f"local-file-system/{BLOCK}")
    block_id = api.get("/admin/storage")["default_result_storage_block_id"]
    assert block_id
    assert f"local-file-system/{BLOCK}" in prefect.cli("experimental", "result-storage", "inspect")

    run = prefect.run("server_default_storage", "run")
    assert run["flow_result"] == "flow-result" and run["task_result"] == 42
    assert run["flow_storage_block_id"] == block_id and run["task_storage_block_id"] == block_id
    written = {p.name for p in storage.rglob("*") if p.is_file()}
    for key in (run["flow_storage_key"], run["task_storage_key"]):
        assert key.rsplit("/", 1)[-1] in written, (key, written)

    prefect.cli("experimental", "result-storage", "clear")
    assert api.get("/admin/storage")["default_result_storage_block_id"] is None
    assert "No default result storage is configured" in prefect.cli("experimental", "result-storage", "inspect")


def test_an_unknown_block_is_refused_and_nothing_is_set(prefect, api):
    out = prefect.cli("experimental", "result-storage", "set", "--id", "00000000-0000-4000-8000-000000000000", expect_exit=1)
    assert "not found" in out.lower()
    assert api.get("/admin/storage")["default_result_storage_block_id"] is None
