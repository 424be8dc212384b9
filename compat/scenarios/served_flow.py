"""`flow.serve(name=NAME, interval=3)`: registers a deployment with a 3-second interval schedule and runs what
Osprey's scheduler creates for it until killed."""
import sys

from prefect import flow


@flow(log_prints=True)
def served(x: int = 1) -> int:
    print(f"served {x}")
    return x


if __name__ == "__main__":
    from _report import report

    report(serving=True)
    served.serve(name=sys.argv[1], interval=3)
