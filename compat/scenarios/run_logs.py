"""Logs from get_run_logger() in a flow and in a task. argv[1]: a marker making the messages unique."""
import sys

from prefect import flow, get_run_logger, task

from _report import report


@task
def logging_task(marker):
    get_run_logger().warning("task says %s", marker)


@flow
def run_logs(marker):
    get_run_logger().info("flow says %s", marker)
    state = logging_task(marker, return_state=True)
    report(task_run_id=state.state_details.task_run_id)


if __name__ == "__main__":
    state = run_logs(sys.argv[1], return_state=True)
    report(flow_run_id=state.state_details.flow_run_id)
