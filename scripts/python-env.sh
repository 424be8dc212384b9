#!/usr/bin/env bash
# Creates .venv with the pinned Prefect client for the compatibility tests (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv 2>/dev/null || { echo "python-env: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
if ! .venv/bin/python -c "import prefect, pytest" 2>/dev/null ||
   [ "$(.venv/bin/python -c 'import prefect; print(prefect.__version__)')" != "$(sed -n 's/^prefect==//p' compat/requirements.txt)" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -r compat/requirements.txt
fi
echo "python-env: $(.venv/bin/python -c 'import prefect; print("prefect", prefect.__version__)')"

# Schemathesis for compat/api_fuzz.py, in a venv of its own so its dependencies never move the client's.
python3 -m venv .venv-api-fuzz
want=$(sed -n 's/^schemathesis==//p' compat/api-fuzz-requirements.txt)
.venv-api-fuzz/bin/pip install -q --disable-pip-version-check -r compat/api-fuzz-requirements.txt
echo "python-env: schemathesis $want"
