"""How a scenario program tells the test what happened: report(key=value, ...) merges into the JSON file
named by OSPREY_COMPAT_REPORT (atomically, so the test may read it while the program still runs)."""

import json
import os


def report(**values):
    path = os.environ["OSPREY_COMPAT_REPORT"]
    try:
        with open(path) as f:
            current = json.load(f)
    except FileNotFoundError:
        current = {}
    current.update(values)
    with open(path + ".tmp", "w") as f:
        json.dump(current, f, default=str)
    os.replace(path + ".tmp", path)
