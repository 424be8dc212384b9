"""A flow calling a @task directly, with .submit() and with .map() over 100 items."""
from prefect import flow, task

from _report import report


@task
def double(x):
    return 2 * x


@flow
def tasks_fan_out():
    direct = double(1, return_state=True)
    submitted = [double.submit(i) for i in range(5)]
    mapped = double.map(range(100))
    results = [direct.result()] + [f.result() for f in submitted] + [f.result() for f in mapped]
    report(direct=[direct.state_details.task_run_id],
           submitted=[f.task_run_id for f in submitted],
           mapped=[f.task_run_id for f in mapped])
    return sum(results)


if __name__ == "__main__":
    state = tasks_fan_out(return_state=True)
    report(flow_run_id=state.state_details.flow_run_id, result=state.result())
