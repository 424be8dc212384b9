// Block documents: stored with their secret values sealed, read back with their references resolved.
#include <algorithm>
#include <map>

#include "domain/block_secrets.hpp"
#include "persistence/block_sql.hpp"
#include "persistence/block_store.hpp"
#include "persistence/database_calls.hpp"
#include "persistence/result_storage_store.hpp"

namespace osprey::persistence {
namespace {

using nlohmann::json;
using namespace block_sql;

/// Prefect refuses reference chains deeper than this (_BLOCK_DOCUMENT_REFERENCE_MAX_DEPTH).
constexpr int max_reference_depth = 50;

constexpr const char* document_columns =
    "bd.id, bd.created, bd.updated, bd.name, bd.data, bd.is_anonymous, bd.block_type_name, bd.block_type_id, "
    "bd.block_schema_id";

block_document document_from(const sql_row& row) {
  block_document d;
  d.id = block_document_id{row.id(0)};
  d.created = row.time(1);
  d.updated = row.time(2);
  d.name = row.text(3);
  d.data = json::parse(row.text(4), nullptr, false);
  if (d.data.is_discarded()) d.data = json::object();
  d.is_anonymous = row.boolean(5);
  if (!row.is_null(6)) d.block_type_name = row.text(6);
  d.type = block_type_id{row.id(7)};
  d.schema = block_schema_id{row.id(8)};
  return d;
}

std::optional<block_document> find_row(sql_connection& conn, const block_document_id& doc) {
  auto rows =
      conn.query(std::string("SELECT ") + document_columns + " FROM block_document bd WHERE bd.id = $1", {id(doc)});
  if (rows.empty()) return std::nullopt;
  return document_from(rows[0]);
}

json sealed(const secret_box& box, json data, const json& schema_fields) {
  for_each_secret_root(data, secret_roots(secret_fields_of(schema_fields)),
                       [&box](json& value) { value = box.seal(value); });
  return data;
}

json opened(const secret_box& box, json data, const json& schema_fields) {
  for_each_secret_root(data, secret_roots(secret_fields_of(schema_fields)), [&box](json& value) {
    if (!secret_box::is_sealed(value)) return;
    auto plain = box.open(value.get<std::string>());
    if (!plain) throw refusal(plain.error());
    value = std::move(*plain);
  });
  return data;
}

/// Schemas looked up once per call.
class schema_cache {
 public:
  explicit schema_cache(sql_connection& conn) : conn_(conn) {}
  const stored_block_schema& get(const block_schema_id& s) {
    auto it = known_.find(s);
    if (it == known_.end()) {
      auto found = find_block_schema(conn_, s);
      // Cannot be missing: block_document.block_schema_id is a foreign key (ON DELETE CASCADE).
      if (!found) throw refusal(errc::internal, "a block document's schema is missing");
      it = known_.emplace(s, std::move(*found)).first;
    }
    return it->second;
  }

 private:
  sql_connection& conn_;
  std::map<block_schema_id, stored_block_schema> known_;
};

json type_json_for_reference(const block_type& t) {
  return json{{"id", t.id.to_string()},
              {"created", format_iso8601(t.created)},
              {"updated", format_iso8601(t.updated)},
              {"name", t.name},
              {"slug", t.slug},
              {"logo_url", t.logo_url ? json(*t.logo_url) : json()},
              {"documentation_url", t.documentation_url ? json(*t.documentation_url) : json()},
              {"description", t.description ? json(*t.description) : json()},
              {"code_example", t.code_example ? json(*t.code_example) : json()},
              {"is_protected", t.is_protected}};
}

/// The document with its data opened (and obfuscated unless secrets are asked for) and its references' data
/// nested in, as Prefect's _construct_full_block_document builds it.
full_block_document assemble(sql_connection& conn, const secret_box& box, block_document d, bool include_secrets,
                             schema_cache& schemas, int depth) {
  if (depth > max_reference_depth)
    throw refusal(errc::invalid_argument, "Block document reference graph exceeds max depth " +
                                              std::to_string(max_reference_depth) + "; refusing to recurse further.");
  full_block_document out;
  out.schema = schemas.get(d.schema);
  d.data = opened(box, std::move(d.data), out.schema.schema.fields);
  if (!include_secrets) d.data = obfuscate_secrets(std::move(d.data), secret_fields_of(out.schema.schema.fields));
  const auto refs = conn.query(
      "SELECT name, reference_block_document_id FROM block_document_reference WHERE parent_block_document_id = $1 "
      "ORDER BY name",
      {id(d.id)});
  for (const auto& ref : refs) {
    auto child_row = find_row(conn, block_document_id{ref.id(1)});
    if (!child_row) continue;  // cannot happen: the reference's foreign key cascades
    auto child = assemble(conn, box, std::move(*child_row), include_secrets, schemas, depth + 1);
    const auto name = ref.text(0);
    if (!d.data.is_object()) d.data = json::object();
    d.data[name] = child.doc.data;
    out.references[name] = {{"block_document",
                             {{"id", child.doc.id.to_string()},
                              {"name", child.doc.name},
                              {"block_type", type_json_for_reference(child.schema.type)},
                              {"is_anonymous", child.doc.is_anonymous},
                              {"block_document_references", child.references}}}};
  }
  out.doc = std::move(d);
  return out;
}

std::string document_conditions(dialect dl, const block_document_query& q, sql_params& params) {
  const auto& f = q.documents;
  std::vector<std::string> parts;
  if (f.id_any) parts.push_back(in_ids(dl, "bd.id", *f.id_any, params));
  if (f.is_anonymous) parts.push_back("bd.is_anonymous = " + bind(params, boolean(*f.is_anonymous)));
  if (f.block_type_id_any) parts.push_back(in_ids(dl, "bd.block_type_id", *f.block_type_id_any, params));
  if (f.name_any) parts.push_back(in_texts(dl, "bd.name", *f.name_any, params));
  if (f.name_like && !f.name_like->empty()) {
    const auto p = bind(params, text("%" + *f.name_like + "%"));
    parts.push_back(dl == dialect::postgresql ? "bd.name ILIKE " + p + "::text" : "bd.name LIKE " + p);
  }
  std::string where = "1=1";
  if (!parts.empty()) {
    where = "(";
    for (std::size_t i = 0; i < parts.size(); ++i) where += (i ? (f.any_of ? " OR " : " AND ") : "") + parts[i];
    where += ")";
  }
  if (q.types)
    where += " AND EXISTS (SELECT 1 FROM block_type bt WHERE bt.id = bd.block_type_id AND " +
             type_condition(dl, *q.types, "bt", params) + ")";
  if (q.schemas)
    where += " AND EXISTS (SELECT 1 FROM block_schema bs WHERE bs.id = bd.block_schema_id AND " +
             schema_condition(dl, *q.schemas, "bs", params) + ")";
  return where;
}

/// Checks every reference names a document and none would close a cycle back to `parent`.
void check_references(sql_connection& conn, const block_document_id& parent, const std::vector<block_reference>& refs) {
  for (const auto& r : refs) {
    if (!find_row(conn, r.target))
      throw refusal(errc::invalid_argument,
                    "Block document " + r.target.to_string() + " referenced in key " + r.name + " does not exist.");
    std::vector<block_document_id> stack{r.target};
    std::vector<block_document_id> seen;
    while (!stack.empty()) {
      const auto at = stack.back();
      stack.pop_back();
      if (at == parent)
        throw refusal(errc::invalid_argument,
                      "Cannot create block document reference: it would introduce a cycle into the "
                      "block_document_reference graph (parent=" +
                          parent.to_string() + ", reference=" + r.target.to_string() + ").");
      if (std::find(seen.begin(), seen.end(), at) != seen.end()) continue;
      seen.push_back(at);
      for (const auto& row : conn.query("SELECT reference_block_document_id FROM block_document_reference WHERE "
                                        "parent_block_document_id = $1",
                                        {id(at)}))
        stack.push_back(block_document_id{row.id(0)});
    }
  }
}

void insert_reference(sql_connection& conn, const block_document_id& parent, const block_reference& r, timestamp now) {
  conn.execute(
      "INSERT INTO block_document_reference (id, created, updated, name, parent_block_document_id, "
      "reference_block_document_id) VALUES ($1, $2, $2, $3, $4, $5)",
      {id(new_uuid4()), ts(now), text(r.name), id(parent), id(r.target)});
}

}  // namespace

std::vector<full_block_document> read_block_documents(sql_connection& conn, const secret_box& box,
                                                      const block_document_query& q) {
  sql_params params;
  std::string sql = std::string("SELECT ") + document_columns + " FROM block_document bd WHERE " +
                    document_conditions(conn.dialect(), q, params);
  switch (q.sort) {
    case block_document_sort::name_asc: sql += " ORDER BY bd.name ASC, bd.id"; break;
    case block_document_sort::name_desc: sql += " ORDER BY bd.name DESC, bd.id"; break;
    case block_document_sort::block_type_and_name_asc:
      sql += " ORDER BY bd.block_type_name ASC, bd.name ASC, bd.id";
      break;
  }
  if (q.limit) sql += " LIMIT " + bind(params, integer(*q.limit));
  if (q.offset > 0) {
    const bool sqlite_needs_limit = !q.limit && conn.dialect() == dialect::sqlite;
    sql += (sqlite_needs_limit ? " LIMIT -1 OFFSET " : " OFFSET ") + bind(params, integer(q.offset));
  }
  schema_cache schemas(conn);
  std::vector<full_block_document> out;
  for (const auto& row : conn.query(sql, params))
    out.push_back(assemble(conn, box, document_from(row), q.include_secrets, schemas, 0));
  return out;
}

std::int64_t count_block_documents(sql_connection& conn, const block_document_query& q) {
  sql_params params;
  auto rows = conn.query(
      "SELECT COUNT(*) FROM block_document bd WHERE " + document_conditions(conn.dialect(), q, params), params);
  return rows.empty() ? 0 : rows[0].integer(0);
}

std::optional<full_block_document> find_block_document(sql_connection& conn, const secret_box& box,
                                                       const block_document_id& doc, bool include_secrets) {
  auto row = find_row(conn, doc);
  if (!row) return std::nullopt;
  schema_cache schemas(conn);
  return assemble(conn, box, std::move(*row), include_secrets, schemas, 0);
}

bool block_document_name_taken(sql_connection& conn, const block_type_id& type, const std::string& name) {
  return !conn.query("SELECT 1 FROM block_document WHERE block_type_id = $1 AND name = $2", {id(type), text(name)})
              .empty();
}

void insert_block_document(sql_connection& conn, const secret_box& box, const block_document& d,
                           const std::vector<block_reference>& refs, timestamp now) {
  schema_cache schemas(conn);
  const auto& schema = schemas.get(d.schema);
  conn.execute(
      "INSERT INTO block_document (id, created, updated, name, data, is_anonymous, block_type_name, block_type_id, "
      "block_schema_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {id(d.id), ts(d.created), ts(d.updated), text(d.name), text(sealed(box, d.data, schema.schema.fields).dump()),
       boolean(d.is_anonymous), d.block_type_name ? text(*d.block_type_name) : null_value(), id(d.type), id(d.schema)});
  check_references(conn, d.id, refs);
  for (const auto& r : refs) insert_reference(conn, d.id, r, now);
}

bool update_block_document(sql_connection& conn, const secret_box& box, const block_document_id& doc,
                           const block_document_update& change, timestamp now) {
  auto current = find_row(conn, doc);
  if (!current) return false;
  if (!change.data) return true;  // Prefect changes nothing (not even the schema) without data
  schema_cache schemas(conn);
  const auto& old_schema = schemas.get(current->schema);
  json current_data = opened(box, current->data, old_schema.schema.fields);
  json update = keep_unchanged_secrets(*change.data, current_data, secret_fields_of(old_schema.schema.fields));
  if (change.merge_existing_data && current_data.is_object()) {
    for (auto& [key, value] : update.items()) current_data[key] = value;
    update = std::move(current_data);
  }
  auto split = split_references(update);
  if (!split) throw refusal(split.error());

  block_schema_id target = current->schema;
  if (change.schema && *change.schema != current->schema) {
    auto proposed = find_block_schema(conn, *change.schema);
    if (!proposed) throw refusal(errc::invalid_argument, "Block schema " + change.schema->to_string() + " not found.");
    if (proposed->schema.type != current->type)
      throw refusal(errc::invalid_argument, "Must migrate block document to a block schema of the same block type.");
    target = *change.schema;
  }
  const auto& schema = schemas.get(target);
  conn.execute("UPDATE block_document SET data = $2, block_schema_id = $3, updated = $4 WHERE id = $1",
               {id(doc), text(sealed(box, split->first, schema.schema.fields).dump()), id(target), ts(now)});

  // References: those named again stay, new ones are added, the rest are deleted (Prefect's rule).
  const auto stored = conn.query(
      "SELECT id, name, reference_block_document_id FROM block_document_reference WHERE parent_block_document_id = $1",
      {id(doc)});
  std::vector<block_reference> added;
  std::vector<uuid> kept;
  for (const auto& r : split->second) {
    auto same = std::find_if(stored.begin(), stored.end(),
                             [&](const sql_row& row) { return row.text(1) == r.name && row.id(2) == r.target.value; });
    if (same == stored.end()) {
      added.push_back(r);
    } else {
      kept.push_back(same->id(0));
    }
  }
  for (const auto& row : stored)
    if (std::find(kept.begin(), kept.end(), row.id(0)) == kept.end())
      conn.execute("DELETE FROM block_document_reference WHERE id = $1", {id(row.id(0))});
  check_references(conn, doc, added);
  for (const auto& r : added) insert_reference(conn, doc, r, now);
  return true;
}

bool delete_block_document(sql_connection& conn, const block_document_id& doc) {
  clear_default_result_storage_for(conn, doc);
  return conn.execute("DELETE FROM block_document WHERE id = $1", {id(doc)}) > 0;
}

}  // namespace osprey::persistence
