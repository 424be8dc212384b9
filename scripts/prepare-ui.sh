#!/usr/bin/env bash
# Installs the Prefect UI that Osprey serves at /: copies the two built bundles shipped inside the pinned
# `prefect` package (compat/requirements.txt, in .venv from scripts/python-env.sh) into DEST/v1 (the Vue UI,
# prefect/server/ui) and DEST/v2 (the React UI, prefect/server/ui-v2). Nothing of them lives in this
# repository. The server substitutes the base path when it loads them, so one copy serves any base path.
#   scripts/prepare-ui.sh [DEST]     DEST defaults to $OSPREY_HOME/ui (~/.osprey/ui), the server's default
# Idempotent: a DEST already holding this Prefect version's bundles is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-${OSPREY_HOME:-$HOME/.osprey}/ui}
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || { echo "prepare-ui: $python not found (run scripts/python-env.sh)" >&2; exit 1; }
read -r version package < <("$python" -c 'import os, prefect; print(prefect.__version__, os.path.dirname(prefect.__file__))')
stamp="prefect $version"
if [ -f "$dest/SOURCE" ] && [ "$(cat "$dest/SOURCE")" = "$stamp" ] && [ -f "$dest/v1/index.html" ] && [ -f "$dest/v2/index.html" ]; then
  echo "prepare-ui: $dest already holds the UI of $stamp"
  exit 0
fi
for bundle in ui ui-v2; do
  [ -f "$package/server/$bundle/index.html" ] || { echo "prepare-ui: $package/server/$bundle has no index.html" >&2; exit 1; }
done
mkdir -p "$(dirname "$dest")"
staging=$(mktemp -d "$(dirname "$dest")/.ui-staging.XXXXXX")
trap 'rm -rf "$staging"' EXIT
cp -R "$package/server/ui" "$staging/v1"
cp -R "$package/server/ui-v2" "$staging/v2"
echo "$stamp" > "$staging/SOURCE"
chmod -R u+rwX,go+rX "$staging"
# Swap in the new copy whole, so a server starting meanwhile sees the old bundles or the new ones, never half.
rm -rf "$dest.old"
[ -e "$dest" ] && mv "$dest" "$dest.old"
mv "$staging" "$dest"
rm -rf "$dest.old"
echo "prepare-ui: installed the UI of $stamp into $dest"
