"""Resumes a paused flow run from another process. argv[1]: its id."""
import sys

from prefect.flow_runs import resume_flow_run

from _report import report

if __name__ == "__main__":
    resume_flow_run(sys.argv[1])
    report(resumed=True)
