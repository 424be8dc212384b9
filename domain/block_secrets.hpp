#pragma once
// Which values of a block document are secret, by the schema's secret_fields (Prefect 3.9.1's rules): a
// dotted path names one value ("value", "child.password"), and a "*" makes everything under the path before
// it secret ("headers.*"). Paths walk objects only, never lists. No I/O.
//
// Two uses with different granularity:
// - answers hide secrets as Prefect does (obfuscate_secrets): a leaf at a named path, or every leaf under a
//   wildcard's prefix, becomes "********" (an object at a plain path stays visible, as in Prefect);
// - storage encrypts whole values (secret_roots): the value at each path, up to its first "*". Any value
//   Prefect would hide lies inside one root, so no secret reaches the database in plain text.

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace osprey {

/// What Prefect shows instead of a secret value.
inline constexpr const char* obfuscated_secret = "********";

/// `data` with the secrets among `secret_fields` replaced by obfuscated_secret (Prefect's
/// BlockDocument.from_orm_model without include_secrets).
nlohmann::json obfuscate_secrets(nlohmann::json data, const std::vector<std::string>& secret_fields);

/// An update's data with every secret that reads obfuscated_secret put back to its `current` value (Prefect's
/// update_block_document: a client posting back what it read must not overwrite the secrets with stars).
nlohmann::json keep_unchanged_secrets(nlohmann::json update, const nlohmann::json& current,
                                      const std::vector<std::string>& secret_fields);

/// The paths whose values are stored encrypted: each secret field up to its first "*", without paths that lie
/// under another root (a root's whole value is encrypted once).
std::vector<std::vector<std::string>> secret_roots(const std::vector<std::string>& secret_fields);

/// Calls `change` on the value at each root that is present and not null, in root order (objects only on the
/// way there). `change` replaces the value in place.
void for_each_secret_root(nlohmann::json& data, const std::vector<std::vector<std::string>>& roots,
                          const std::function<void(nlohmann::json&)>& change);

}  // namespace osprey
