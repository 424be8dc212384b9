#pragma once
// Checks on JSON the server will store.

#include <nlohmann/json.hpp>

namespace osprey {

/// True when any string or object key in `value` holds U+0000. PostgreSQL cannot store it in text or jsonb
/// (libpq even cuts text at it), so no stored string may hold it.
bool holds_nul(const nlohmann::json& value);

}  // namespace osprey
