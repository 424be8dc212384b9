#pragma once
// The system block types and schemas a Prefect 3.9.1 server registers at start, generated from the pinned
// Prefect package by scripts/generate_block_catalog.py into persistence/system_blocks/catalog.json and compiled
// into the binary (system_blocks/embed_catalog.cmake). Shape: {"prefect_version": "3.9.1", "block_types":
// [{name, slug, logo_url, documentation_url, description, code_example, is_protected,
//   block_schema: {fields, checksum, capabilities, version}}, ...]}.

#include <string_view>

#include <nlohmann/json.hpp>

namespace osprey::persistence {

/// The catalog's JSON text.
std::string_view system_block_catalog_json();
/// The catalog parsed (once).
const nlohmann::json& system_block_catalog();

}  // namespace osprey::persistence
