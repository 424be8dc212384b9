"""Fixtures: one Osprey daemon per session (SQLite in a temp OSPREY_HOME, or OSPREY_COMPAT_DATABASE_URL), the
REST API it serves, and the real Prefect client and CLI pointed at it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import Api, Osprey, Prefect

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = REPO / "build" / "osprey"


@pytest.fixture(scope="session")
def osprey(tmp_path_factory):
    binary = Path(os.environ.get("OSPREY_BINARY", DEFAULT_BINARY))
    assert binary.is_file(), f"no osprey binary at {binary} (set OSPREY_BINARY)"
    home = tmp_path_factory.mktemp("osprey-home")
    # The UI the server finds at $OSPREY_HOME/ui, from the pinned Prefect package (test_ui.py opens it).
    subprocess.run([str(REPO / "scripts" / "prepare-ui.sh"), str(home / "ui")], check=True, capture_output=True,
                   env=dict(os.environ, PYTHON=sys.executable))
    daemon = Osprey(binary, home, os.environ.get("OSPREY_COMPAT_DATABASE_URL"))
    daemon.start()
    print(f"\nosprey {binary} on {daemon.url}, database {daemon.database}")
    yield daemon
    code = daemon.stop()
    assert code == 0, f"osprey exited with {code} on SIGTERM:\n{daemon.output()}"


@pytest.fixture(scope="session")
def api(osprey):
    return Api(osprey.api_url)


@pytest.fixture(scope="session")
def prefect(osprey, tmp_path_factory):
    return Prefect(osprey.api_url, tmp_path_factory.mktemp("prefect-home"), tmp_path_factory.mktemp("programs"))


@pytest.fixture(autouse=True)
def no_program_outlives_its_test(request):
    yield
    if "prefect" in request.fixturenames:
        request.getfixturevalue("prefect").kill_leftovers()
