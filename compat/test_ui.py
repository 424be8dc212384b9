"""Scenario: the Prefect UI, served by Osprey, in a real headless Chromium (compat/browser.py). A real Prefect flow
(mapped tasks, logs, artifacts, a subflow) and the objects the other pages list (a work pool with a deployment, a
variable, a Secret block, concurrency limits) are created first; then every main page of the default UI (v2) and
of the Vue UI (v1) is opened. A page fails the test on any console error, uncaught exception, failed load or
response 4xx/5xx. Screenshots go to build/ui-screenshots/ (OSPREY_UI_SCREENSHOTS overrides)."""

import os
import shutil
from pathlib import Path

import pytest

from browser import Browser

SCREENSHOTS = Path(os.environ.get("OSPREY_UI_SCREENSHOTS", Path(__file__).resolve().parent.parent / "build" / "ui-screenshots"))


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/install-deps.sh installs it)")
        pytest.skip("chromium is not installed (scripts/install-deps.sh installs it)")
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def data(prefect, api):
    report = prefect.run("ui_data", timeout=180)
    assert report["state"] == "COMPLETED", report
    tasks = api.task_runs_of(report["flow_run_id"])
    assert tasks, "the flow's task runs were not recorded"
    return dict(report, task_run_id=sorted(tasks, key=lambda t: t["name"])[0]["id"])


# Requests Prefect's own server answers 404 as well: the bundles link /favicon.ico but ship it under ico/; the Vue
# flow-run and task-run pages point the favicon at /ico/<state type>.svg before the run has loaded; the React ones at
# /<state type>.svg, outside their /v2 base.
KNOWN_PREFECT_404S = tuple(f"{name} answered 404" for name in (
    "/favicon.ico", "/favicon-dark.ico", "/ico/undefined.svg",
    *(f"/{state}.svg" for state in ("completed", "failed", "running", "pending", "scheduled", "cancelled", "crashed"))))


def pages(data):
    run, flow, deployment, task = data["flow_run_id"], data["flow_id"], data["deployment_id"], data["task_run_id"]
    v2 = [("dashboard", "/", "Dashboard"), ("runs", "/v2/runs/", "ui-etl"), ("flow-run", f"/v2/runs/flow-run/{run}", "ui-etl"),
          ("task-run", f"/v2/runs/task-run/{task}", "square"),
          # The flows list pages by name: with the rest of the suite's flows, ui-etl is not on its first page.
          ("flows", "/v2/flows/", "Flows"), ("flow", f"/v2/flows/flow/{flow}", "ui-etl"),
          ("deployments", "/v2/deployments/", "ui-nightly"), ("deployment", f"/v2/deployments/deployment/{deployment}", "ui-nightly"),
          ("work-pools", "/v2/work-pools/", "ui-pool"), ("blocks", "/v2/blocks/", "ui-token"),
          ("variables", "/v2/variables/", "ui_threshold"), ("concurrency", "/v2/concurrency-limits/", "ui-warehouse"),
          ("events", "/v2/events/", "Event"), ("artifacts", "/v2/artifacts/", "ui-report"), ("settings", "/v2/settings", "Settings")]
    v1 = [("v1-dashboard", "/dashboard", ""), ("v1-runs", "/runs", ""), ("v1-flow-run", f"/flow-runs/flow-run/{run}", ""),
          ("v1-flows", "/flows", ""), ("v1-deployments", "/deployments", ""), ("v1-work-pools", "/work-pools", ""),
          ("v1-blocks", "/blocks", ""), ("v1-variables", "/variables", ""), ("v1-concurrency", "/concurrency-limits", ""),
          ("v1-settings", "/settings", "")]
    return v2 + v1


def test_every_main_page_loads_without_errors(osprey, data, browser):
    failures = {}
    for name, path, expected_text in pages(data):
        page = browser.open(osprey.url + path)
        browser.screenshot(SCREENSHOTS / f"{name}.png")
        problems = [p for p in page.problems if not p.endswith(KNOWN_PREFECT_404S) and
                    not (p.startswith("log: Failed to load resource: the server responded with a status of 404") and
                         any(k.split(" answered")[0] in p for k in KNOWN_PREFECT_404S))]
        if expected_text and expected_text not in page.text:
            problems.append(f"the page does not show {expected_text!r}")
        if not page.api_calls:
            problems.append("the page called no API route")
        if problems:
            failures[f"{name} {path}"] = problems
    assert not failures, "pages with problems:\n" + "\n".join(
        f"  {page}:\n" + "\n".join(f"    {p}" for p in problems) for page, problems in failures.items())
