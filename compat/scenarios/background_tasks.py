"""Background tasks: `add.delay(...)` in one process, `prefect.task_worker.serve(add)` in another. argv: "serve"
runs the task worker until stopped; "submit X Y N" delays N runs of add(X, Y + i), reports their ids, then
waits for and reports their results."""
import sys

from prefect import task

from _report import report


@task
def add(x: int, y: int) -> int:
    return x + y


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        from prefect.task_worker import serve

        report(serving=True)
        serve(add)
    else:
        x, y, n = (int(a) for a in sys.argv[2:5])
        futures = [add.delay(x, y + i) for i in range(n)]
        report(task_run_ids=[str(f.task_run_id) for f in futures])
        report(results=[f.result(timeout=120) for f in futures])
