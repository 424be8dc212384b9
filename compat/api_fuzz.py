"""Schemathesis against a fresh Osprey: every operation of /api/openapi.json gets generated requests (path
parameters, query, any JSON body); a 5xx, a crash or a request that outlives its timeout fails the run.

  .venv/bin/python compat/api_fuzz.py            # SQLite in a temporary OSPREY_HOME
  compat/run_on_postgres.sh .venv/bin/python compat/api_fuzz.py   # on a fresh PostgreSQL database

OSPREY_API_FUZZ_EXAMPLES (default 50) sets the examples per operation; the Hypothesis seed is fixed, so a
failure reproduces (OSPREY_API_FUZZ_SEED changes it)."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import Osprey

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    binary = Path(os.environ.get("OSPREY_BINARY", REPO / "build" / "osprey"))
    st = REPO / ".venv-api-fuzz" / "bin" / "st"
    if not st.is_file():
        print(f"api_fuzz: no schemathesis at {st}; run scripts/python-env.sh", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="osprey-api-fuzz-") as home:
        daemon = Osprey(binary, Path(home), os.environ.get("OSPREY_COMPAT_DATABASE_URL"))
        daemon.start()
        try:
            run = subprocess.run(
                [str(st), "run", daemon.api_url + "/openapi.json", "--base-url", daemon.url,
                 "--checks", "not_a_server_error", "--experimental", "openapi-3.1",
                 "--hypothesis-max-examples", os.environ.get("OSPREY_API_FUZZ_EXAMPLES", "50"),
                 "--hypothesis-seed", os.environ.get("OSPREY_API_FUZZ_SEED", "4200"),
                 "--hypothesis-deadline", "None", "--hypothesis-suppress-health-check", "all",
                 "--request-timeout", "20000", "--workers", "2", "--no-color", "--show-trace"],
                env={k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "HTTP_PROXY", "HTTPS_PROXY",
                                                                               "http_proxy", "https_proxy"))},
                stdin=subprocess.DEVNULL, timeout=1200)
        finally:
            code = daemon.stop()
        if code != 0:
            print(f"api_fuzz: osprey exited with {code}:\n{daemon.output()}", file=sys.stderr)
            return 1
        if run.returncode != 0:
            print("api_fuzz: schemathesis found failures (above); the server's log tail:\n" + daemon.output()[-5000:],
                  file=sys.stderr)
        return run.returncode


if __name__ == "__main__":
    sys.exit(main())
