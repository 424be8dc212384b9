#!/usr/bin/env python3
"""Writes persistence/system_blocks/catalog.json: the block types and schemas a Prefect server registers at start.

Run it with the pinned Prefect client (compat/requirements.txt) whenever the pin changes:

    .venv/bin/python scripts/generate_block_catalog.py

The list follows prefect/server/models/block_registration.py: the protected system blocks (Webhook, Secret,
LocalFileSystem), then every block class the server imports (its block registry), then the collections' blocks
(prefect/server/collection_blocks_data.json). Osprey embeds the file into its binary and registers it at start,
skipping what is already stored (by slug and by schema checksum and version).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import prefect
import prefect.server.api.server  # noqa: F401  (imports every block class the real server registers)
from prefect.blocks.core import Block
from prefect.server.models import block_registration
from prefect.utilities.dispatch import get_registry_for_type

TYPE_KEYS = ("name", "slug", "logo_url", "documentation_url", "description", "code_example")


def from_class(block: type[Block], protected: bool) -> dict:
    block_type = block._to_block_type().model_dump(mode="json", include=set(TYPE_KEYS))
    schema = block._to_block_schema(block_type_id=None).model_dump(
        mode="json", include={"fields", "checksum", "capabilities", "version"}
    )
    return {**{k: block_type.get(k) for k in TYPE_KEYS}, "is_protected": protected, "block_schema": schema}


def from_collection(entry: dict) -> dict:
    schema = entry["block_schema"]
    return {
        **{k: entry.get(k) for k in TYPE_KEYS},
        "is_protected": False,
        "block_schema": {k: schema[k] for k in ("fields", "checksum", "capabilities", "version")},
    }


def main() -> int:
    out = Path(__file__).resolve().parent.parent / "persistence" / "system_blocks" / "catalog.json"
    entries: list[dict] = []
    seen: set[str] = set()

    def add(entry: dict) -> None:
        if entry["slug"] not in seen:
            seen.add(entry["slug"])
            entries.append(entry)

    from prefect.blocks.system import Secret
    from prefect.blocks.webhook import Webhook
    from prefect.filesystems import LocalFileSystem

    for block in (Webhook, Secret, LocalFileSystem):
        add(from_class(block, protected=True))
    registry = get_registry_for_type(Block) or {}
    for slug in sorted(registry):
        add(from_class(registry[slug], protected=False))
    collections = json.loads(block_registration.COLLECTIONS_BLOCKS_DATA_PATH.read_text())["collections"]
    for name in sorted(collections):
        for slug in sorted(collections[name]["block_types"]):
            add(from_collection(collections[name]["block_types"][slug]))

    catalog = {"prefect_version": prefect.__version__, "block_types": entries}
    out.write_text(json.dumps(catalog, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out} ({len(entries)} block types, Prefect {prefect.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
