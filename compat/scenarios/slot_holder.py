"""Takes one slot of the global limit argv[1] with `concurrency(...)` under a 60 s lease (the shortest the server
takes) and holds it until killed, reporting "holding" once it has the slot."""
import sys
import time

from prefect import flow
from prefect.concurrency.sync import concurrency

from _report import report


@flow
def slot_holder(name: str):
    with concurrency(name, occupy=1, lease_duration=60):
        report(holding=True)
        time.sleep(3600)


if __name__ == "__main__":
    slot_holder(sys.argv[1])
