#include "persistence/block_sql.hpp"

namespace osprey::persistence::block_sql {

std::string bind(sql_params& params, sql_value v) {
  params.push_back(std::move(v));
  return "$" + std::to_string(params.size());
}

std::string type_columns(const std::string& a) {
  return a + ".id, " + a + ".created, " + a + ".updated, " + a + ".name, " + a + ".slug, " + a + ".logo_url, " + a +
         ".documentation_url, " + a + ".description, " + a + ".code_example, " + a + ".is_protected";
}

namespace {
std::optional<std::string> optional_text(const sql_row& row, std::size_t i) {
  if (row.is_null(i)) return std::nullopt;
  return row.text(i);
}
}  // namespace

block_type type_from(const sql_row& row, std::size_t f) {
  block_type t;
  t.id = block_type_id{row.id(f)};
  t.created = row.time(f + 1);
  t.updated = row.time(f + 2);
  t.name = row.text(f + 3);
  t.slug = row.text(f + 4);
  t.logo_url = optional_text(row, f + 5);
  t.documentation_url = optional_text(row, f + 6);
  t.description = optional_text(row, f + 7);
  t.code_example = optional_text(row, f + 8);
  t.is_protected = row.boolean(f + 9);
  return t;
}

std::string in_texts(dialect d, const std::string& column, const std::vector<std::string>& items, sql_params& params) {
  const auto p = bind(params, text(nlohmann::json(items).dump()));
  return column + (d == dialect::postgresql ? " IN (SELECT jsonb_array_elements_text(" + p + "::jsonb))"
                                            : " IN (SELECT value FROM json_each(" + p + "))");
}

std::string in_ids(dialect d, const std::string& column, const std::vector<uuid>& items, sql_params& params) {
  std::vector<std::string> texts;
  for (const auto& u : items) texts.push_back(u.to_string());
  const auto p = bind(params, text(nlohmann::json(texts).dump()));
  return column + (d == dialect::postgresql ? " IN (SELECT (jsonb_array_elements_text(" + p + "::jsonb))::uuid)"
                                            : " IN (SELECT value FROM json_each(" + p + "))");
}

namespace {

std::string joined(const std::vector<std::string>& parts, const char* op) {
  if (parts.empty()) return "1=1";
  std::string out = "(";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? op : "") + parts[i];
  return out + ")";
}

std::string ilike(dialect d, const std::string& column, const std::string& needle, sql_params& params) {
  const auto p = bind(params, text("%" + needle + "%"));
  return column + (d == dialect::postgresql ? " ILIKE " + p + "::text" : " LIKE " + p);
}

}  // namespace

std::string type_condition(dialect d, const block_type_filter& f, const std::string& a, sql_params& params) {
  std::vector<std::string> parts;
  if (f.name_like && !f.name_like->empty()) parts.push_back(ilike(d, a + ".name", *f.name_like, params));
  if (f.slug_any) parts.push_back(in_texts(d, a + ".slug", *f.slug_any, params));
  return joined(parts, " AND ");
}

std::string schema_condition(dialect d, const block_schema_filter& f, const std::string& a, sql_params& params) {
  std::vector<std::string> parts;
  if (f.block_type_id_any) parts.push_back(in_ids(d, a + ".block_type_id", *f.block_type_id_any, params));
  if (f.capabilities_all && !f.capabilities_all->empty()) {
    const auto p = bind(params, text(nlohmann::json(*f.capabilities_all).dump()));
    parts.push_back(d == dialect::postgresql ? a + ".capabilities @> " + p + "::jsonb"
                                             : "NOT EXISTS (SELECT 1 FROM json_each(" + p +
                                                   ") AS want WHERE want.value NOT IN "
                                                   "(SELECT have.value FROM json_each(" +
                                                   a + ".capabilities) AS have))");
  }
  if (f.id_any) parts.push_back(in_ids(d, a + ".id", *f.id_any, params));
  if (f.version_any) parts.push_back(in_texts(d, a + ".version", *f.version_any, params));
  return joined(parts, f.any_of ? " OR " : " AND ");
}

}  // namespace osprey::persistence::block_sql
