"""Schemathesis against a fresh Osprey: every operation of /api/openapi.json gets generated requests; a 5xx, a
crash, a request that outlives its timeout, a status the document does not list, or a success body that does not
match the documented schema (content type included) fails the run.

Osprey's document (http/openapi/) declares each route's parameters, body and answers. Its request bodies are
documented at their top level; where Prefect 3.9.1 (the pinned package) has the same operation, Prefect's exact
request body schema and any query parameter ours lacks are grafted on for generation only, so most requests get
past the shape checks and reach the domain rules and the database, as a real client's would. Responses are always
checked against Osprey's own schemas: Prefect's components are grafted under a "Prefect_" prefix.

  .venv/bin/python compat/api_fuzz.py            # SQLite in a temporary OSPREY_HOME
  compat/run_on_postgres.sh .venv/bin/python compat/api_fuzz.py   # on a fresh PostgreSQL database

OSPREY_API_FUZZ_EXAMPLES (default 10) sets the examples per operation; the Hypothesis seed is fixed, so a
failure reproduces (OSPREY_API_FUZZ_SEED changes it)."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from harness import Osprey

REPO = Path(__file__).resolve().parent.parent


def prefect_document() -> dict:
    """Prefect's own API document (its paths lack the /api prefix)."""
    from prefect.server.api.server import create_api_app

    return create_api_app().openapi()


def refers_to_itself(schema, components: dict) -> bool:
    """Whether a schema reaches one of its own $refs again (Prefect's automations: a compound trigger holds
    triggers). Schemathesis cannot generate such bodies and errors on the operation."""

    def refs(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"].rsplit("/", 1)[-1]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    def cyclic(name, path):
        if name in path:
            return True
        return any(cyclic(child, path | {name}) for child in set(refs(components.get(name, {}))))

    return any(cyclic(name, frozenset()) for name in set(refs(schema)))


def prefixed(node, prefix: str):
    """`node` with every components $ref renamed to prefix + name."""
    if isinstance(node, dict):
        out = {k: prefixed(v, prefix) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            out["$ref"] = "#/components/schemas/" + prefix + ref.rsplit("/", 1)[-1]
        return out
    if isinstance(node, list):
        return [prefixed(v, prefix) for v in node]
    return node


def graft(ours: dict, theirs: dict) -> dict:
    """Our document with Prefect's request body schemas and extra query parameters on the operations both have
    (a recursive body schema is left out: those operations keep Osprey's body schema). Prefect's components join
    ours renamed, so our response schemas stay ours."""
    grafted = 0
    components = theirs.get("components", {}).get("schemas", {})
    for path, operations in ours["paths"].items():
        their_ops = theirs["paths"].get(path.removeprefix("/api"), {})
        for method, op in operations.items():
            their = their_ops.get(method)
            if not their:
                continue
            have = {p["name"] for p in op.get("parameters", [])}
            extra = [p for p in their.get("parameters", []) if p.get("in") == "query" and p["name"] not in have]
            if extra:
                op["parameters"] = op.get("parameters", []) + prefixed(extra, "Prefect_")
            if "requestBody" in their and not refers_to_itself(their["requestBody"], components):
                op["requestBody"] = prefixed(their["requestBody"], "Prefect_")
            grafted += 1
    schemas = ours.setdefault("components", {}).setdefault("schemas", {})
    schemas.update({"Prefect_" + name: prefixed(schema, "Prefect_") for name, schema in components.items()})
    print(f"api_fuzz: {grafted} operations carry Prefect's request bodies")
    return ours


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
            ours = httpx.get(daemon.api_url + "/openapi.json", trust_env=False, timeout=30).json()
            document = Path(home) / "openapi.json"
            document.write_text(json.dumps(graft(ours, prefect_document())))
            run = subprocess.run(
                [str(st), "run", str(document), "--base-url", daemon.url,
                 "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance", "--experimental", "openapi-3.1",
                 "--hypothesis-max-examples", os.environ.get("OSPREY_API_FUZZ_EXAMPLES", "10"),
                 "--hypothesis-seed", os.environ.get("OSPREY_API_FUZZ_SEED", "4200"),
                 "--hypothesis-deadline", "None", "--hypothesis-suppress-health-check", "all",
                 "--hypothesis-database", "none",
                 "--request-timeout", "20000", "--workers", "1", "--no-color", "--show-trace"],
                env={k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "HTTP_PROXY", "HTTPS_PROXY",
                                                                               "http_proxy", "https_proxy"))},
                stdin=subprocess.DEVNULL, cwd=home, timeout=1200)
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
