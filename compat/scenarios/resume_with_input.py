"""Resumes a paused flow run with run input, as the real client does. argv[1]: its id; argv[2]: the input as
JSON. Reports the error text when the server refuses the input."""
import json
import sys

from prefect.flow_runs import resume_flow_run

from _report import report

if __name__ == "__main__":
    try:
        resume_flow_run(sys.argv[1], run_input=json.loads(sys.argv[2]))
        report(resumed=True)
    except RuntimeError as exc:
        report(resumed=False, error=str(exc))
