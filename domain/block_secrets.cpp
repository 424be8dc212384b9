#include "domain/block_secrets.hpp"

#include <algorithm>
#include <map>

namespace osprey {
namespace {

using path = std::vector<std::string>;
using nlohmann::json;

path split_path(const std::string& field) {
  path out;
  std::string::size_type start = 0;
  for (;;) {
    const auto dot = field.find('.', start);
    out.push_back(field.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

/// Prefect's dict_to_flatdict: every leaf (a value that is not a non-empty object) by its key path.
void flatten(const json& value, path& at, std::map<path, const json*>& out) {
  for (const auto& [key, child] : value.items()) {
    at.push_back(key);
    if (child.is_object() && !child.empty()) {
      flatten(child, at, out);
    } else {
      out.emplace(at, &child);
    }
    at.pop_back();
  }
}

std::map<path, const json*> leaves(const json& data) {
  std::map<path, const json*> out;
  path at;
  if (data.is_object()) flatten(data, at, out);
  return out;
}

/// The leaf at `p` in `data` (which must be an object along the way), or nullptr.
json* leaf_at(json& data, const path& p) {
  json* at = &data;
  for (const auto& key : p) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at->is_object() && !at->empty() ? nullptr : at;
}

bool starts_with(const path& key, const path& prefix) {
  return key.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin());
}

/// The part of a wildcard path before its first "*"; nullopt without one.
std::optional<path> wildcard_prefix(const path& p) {
  auto star = std::find(p.begin(), p.end(), "*");
  if (star == p.end()) return std::nullopt;
  return path(p.begin(), star);
}

}  // namespace

json obfuscate_secrets(json data, const std::vector<std::string>& secret_fields) {
  if (!data.is_object()) return data;
  for (const auto& field : secret_fields) {
    const auto p = split_path(field);
    if (json* leaf = leaf_at(data, p); leaf && !leaf->is_null()) {
      *leaf = obfuscated_secret;
      continue;
    }
    const auto prefix = wildcard_prefix(p);
    if (!prefix) continue;
    for (const auto& [key, unused] : leaves(data))
      if (starts_with(key, *prefix))
        if (json* leaf = leaf_at(data, key)) *leaf = obfuscated_secret;
  }
  return data;
}

json keep_unchanged_secrets(json update, const json& current, const std::vector<std::string>& secret_fields) {
  if (!update.is_object()) return update;
  json current_copy = current;
  for (const auto& field : secret_fields) {
    const auto p = split_path(field);
    if (const json* now = leaf_at(current_copy, p); now && !now->is_null()) {
      if (json* sent = leaf_at(update, p); sent && *sent == obfuscated_secret) *sent = *now;
      continue;
    }
    const auto prefix = wildcard_prefix(p);
    if (!prefix) continue;
    for (const auto& [key, unused] : leaves(update)) {
      if (!starts_with(key, *prefix)) continue;
      json* sent = leaf_at(update, key);
      if (!sent || *sent != obfuscated_secret) continue;
      // Prefect reads the current value unguarded (a KeyError when there is none); keeping the stars is the
      // answer that loses nothing.
      if (const json* now = leaf_at(current_copy, key)) *sent = *now;
    }
  }
  return update;
}

std::vector<path> secret_roots(const std::vector<std::string>& secret_fields) {
  std::vector<path> roots;
  for (const auto& field : secret_fields) {
    auto p = split_path(field);
    if (auto prefix = wildcard_prefix(p)) p = *prefix;
    if (std::find(roots.begin(), roots.end(), p) == roots.end()) roots.push_back(std::move(p));
  }
  std::vector<path> out;
  for (const auto& r : roots) {
    const bool covered = std::any_of(roots.begin(), roots.end(), [&](const path& other) {
      return other.size() < r.size() && starts_with(r, other);
    });
    if (!covered) out.push_back(r);
  }
  return out;
}

void for_each_secret_root(json& data, const std::vector<path>& roots, const std::function<void(json&)>& change) {
  for (const auto& root : roots) {
    json* at = &data;
    for (const auto& key : root) {
      if (!at || !at->is_object()) {
        at = nullptr;
        break;
      }
      auto it = at->find(key);
      at = it == at->end() ? nullptr : &*it;
    }
    if (at && !at->is_null()) change(*at);
  }
}

}  // namespace osprey
