// Registering the system block catalog (persistence/system_blocks.hpp) at start and on request.
#include "persistence/system_blocks.hpp"

#include "persistence/block_store.hpp"

namespace osprey::persistence {

using nlohmann::json;

const json& system_block_catalog() {
  // Parsed once; the text is generated from the pinned Prefect and tested to parse.
  static const json catalog = json::parse(system_block_catalog_json(), nullptr, false);
  return catalog;
}

std::pair<std::size_t, std::size_t> register_system_blocks(sql_connection& conn, const json& catalog, timestamp now) {
  std::size_t types_written = 0, schemas_written = 0;
  const auto& entries = catalog.at("block_types");
  auto optional_field = [](const json& e, const char* key, bool escape) -> std::optional<std::string> {
    if (!e.contains(key) || !e[key].is_string()) return std::nullopt;
    return escape ? html_escape(e[key].get<std::string>()) : e[key].get<std::string>();
  };
  std::vector<block_type_id> ids;
  for (const auto& e : entries) {
    block_type wanted;
    wanted.name = e.at("name").get<std::string>();
    wanted.slug = e.at("slug").get<std::string>();
    wanted.logo_url = optional_field(e, "logo_url", false);
    wanted.documentation_url = optional_field(e, "documentation_url", false);
    wanted.description = optional_field(e, "description", true);
    wanted.code_example = optional_field(e, "code_example", true);
    wanted.is_protected = e.value("is_protected", false);
    wanted.created = wanted.updated = now;
    auto stored = find_block_type_by_slug(conn, wanted.slug);
    if (!stored) {
      wanted.id = block_type_id{new_uuid4()};
      insert_block_type(conn, wanted);
      ++types_written;
    } else {
      wanted.id = stored->id;
      if (stored->logo_url != wanted.logo_url || stored->documentation_url != wanted.documentation_url ||
          stored->description != wanted.description || stored->code_example != wanted.code_example ||
          stored->is_protected != wanted.is_protected) {
        update_block_type(conn, wanted);
        ++types_written;
      }
    }
    ids.push_back(wanted.id);
  }
  // Schemas after every type: a schema may embed blocks of types later in the list.
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& s = entries[i].at("block_schema");
    block_schema_input input;
    input.fields = s.at("fields");
    input.type = ids[i];
    input.capabilities = s.value("capabilities", std::vector<std::string>{});
    input.version = s.value("version", std::string(default_block_schema_version));
    if (find_block_schema_by_checksum(conn, s.value("checksum", std::string()), input.version)) continue;
    if (create_block_schema(conn, input, now).created) ++schemas_written;
  }
  return {types_written, schemas_written};
}

}  // namespace osprey::persistence
