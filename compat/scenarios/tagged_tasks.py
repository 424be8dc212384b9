"""A flow submitting COUNT tasks tagged TAG at once (a thread per task), each holding its slot HOLD seconds. The
tasks count themselves in and out of a file-locked counter, so the report says how many ever ran at once."""
import fcntl
import sys
import time

from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from _report import report

TAG, COUNT, HOLD, COUNTER = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]


def step(delta):
    """Adds `delta` to the running count under an exclusive file lock; keeps the peak."""
    with open(COUNTER, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        running, peak = map(int, (f.read().split() or ["0", "0"]))
        running += delta
        f.seek(0)
        f.truncate()
        f.write(f"{running} {max(peak, running)}")


@task(tags=[TAG])
def hold(i):
    step(+1)
    try:
        time.sleep(HOLD)
    finally:
        step(-1)
    return i


@flow(task_runner=ThreadPoolTaskRunner(max_workers=COUNT))
def tagged_tasks():
    futures = [hold.submit(i) for i in range(COUNT)]
    results = [f.result() for f in futures]
    report(task_run_ids=[f.task_run_id for f in futures])
    return sum(results)


if __name__ == "__main__":
    state = tagged_tasks(return_state=True)
    with open(COUNTER) as f:
        running, peak = map(int, f.read().split())
    report(flow_run_id=state.state_details.flow_run_id, result=state.result(), running=running, peak=peak)
