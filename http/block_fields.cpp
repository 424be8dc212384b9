#include "http/block_fields.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "http/api_support.hpp"
#include "http/concurrency_fields.hpp"

namespace osprey::http::block_fields {
namespace {

using nlohmann::json;

json optional_json(const std::optional<std::string>& s) { return s ? json(*s) : json(); }

/// Walks one filter object: each reader checks a key's value; finish() refuses keys nobody read.
class filter_reader {
 public:
  filter_reader(const json& object, std::string at, response& error)
      : object_(object), at_(std::move(at)), error_(error) {}

  bool fail(const std::string& key, const std::string& message, const std::string& type) {
    error_ = validation_error(key.empty() ? at_ : at_ + "." + key, message, type);
    return false;
  }

  /// The nested object at `key` (nullptr when absent or null; false after a 422 when not an object).
  bool object(const char* key, const json*& out) {
    out = find(key);
    if (out && !out->is_object())
      return fail(key, "Input should be a valid dictionary or object to extract fields from", "model_attributes_type");
    return true;
  }

  bool strings(const char* key, std::optional<std::vector<std::string>>& out) {
    const json* v = find(key);
    if (!v) return true;
    if (!v->is_array()) return fail(key, "Input should be a valid list", "list_type");
    std::vector<std::string> items;
    for (const auto& item : *v) {
      if (!item.is_string()) return fail(key, "Input should be a valid string", "string_type");
      items.push_back(item.get<std::string>());
    }
    out = std::move(items);
    return true;
  }

  bool ids(const char* key, std::optional<std::vector<uuid>>& out) {
    const json* v = find(key);
    if (!v) return true;
    if (!v->is_array()) return fail(key, "Input should be a valid list", "list_type");
    std::vector<uuid> items;
    for (const auto& item : *v) {
      auto u = item.is_string() ? uuid::parse(item.get<std::string>()) : std::nullopt;
      if (!u) return fail(key, "Input should be a valid UUID", "uuid_parsing");
      items.push_back(*u);
    }
    out = std::move(items);
    return true;
  }

  bool string(const char* key, std::optional<std::string>& out) {
    const json* v = find(key);
    if (!v) return true;
    if (!v->is_string()) return fail(key, "Input should be a valid string", "string_type");
    out = v->get<std::string>();
    return true;
  }

  bool boolean(const char* key, std::optional<bool>& out, bool present_null_clears) {
    auto it = object_.find(key);
    seen_.emplace_back(key);
    if (it == object_.end()) return true;
    if (it->is_null()) {
      if (present_null_clears) out.reset();
      return true;
    }
    if (!it->is_boolean()) return fail(key, "Input should be a valid boolean", "bool_type");
    out = it->get<bool>();
    return true;
  }

  /// operator: "and_" | "or_".
  bool op(bool& any_of) {
    const json* v = find("operator");
    if (!v) return true;
    if (!v->is_string() || (*v != "and_" && *v != "or_"))
      return fail("operator", "Input should be 'and_' or 'or_'", "enum");
    any_of = *v == "or_";
    return true;
  }

  bool finish() {
    for (const auto& [key, value] : object_.items())
      if (std::find(seen_.begin(), seen_.end(), key) == seen_.end())
        return fail(key, "Extra inputs are not permitted", "extra_forbidden");
    return true;
  }

  [[nodiscard]] const std::string& at() const { return at_; }

 private:
  const json* find(const char* key) {
    seen_.emplace_back(key);
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  const json& object_;
  std::string at_;
  response& error_;
  std::vector<std::string> seen_;
};

/// The object at `key` of `body`: nullptr when absent or null; false after a 422.
bool top_object(const json& body, const char* key, const json*& out, response& error) {
  auto it = body.find(key);
  out = it == body.end() || it->is_null() ? nullptr : &*it;
  if (out && !out->is_object()) {
    error = validation_error(key, "Input should be a valid dictionary or object to extract fields from",
                             "model_attributes_type");
    return false;
  }
  return true;
}

}  // namespace

bool type_filter(const json& body, const char* key, std::optional<persistence::block_type_filter>& out,
                 response& error) {
  const json* f = nullptr;
  if (!top_object(body, key, f, error)) return false;
  if (!f) return true;
  persistence::block_type_filter t;
  filter_reader in(*f, key, error);
  const json *name = nullptr, *slug = nullptr;
  if (!in.object("name", name) || !in.object("slug", slug) || !in.finish()) return false;
  if (name) {
    filter_reader n(*name, in.at() + ".name", error);
    if (!n.string("like_", t.name_like) || !n.finish()) return false;
  }
  if (slug) {
    filter_reader s(*slug, in.at() + ".slug", error);
    if (!s.strings("any_", t.slug_any) || !s.finish()) return false;
  }
  out = std::move(t);
  return true;
}

bool schema_filter(const json& body, const char* key, std::optional<persistence::block_schema_filter>& out,
                   response& error) {
  const json* f = nullptr;
  if (!top_object(body, key, f, error)) return false;
  if (!f) return true;
  persistence::block_schema_filter s;
  filter_reader in(*f, key, error);
  const json *type = nullptr, *caps = nullptr, *id = nullptr, *version = nullptr;
  if (!in.op(s.any_of) || !in.object("block_type_id", type) || !in.object("block_capabilities", caps) ||
      !in.object("id", id) || !in.object("version", version) || !in.finish())
    return false;
  if (type) {
    filter_reader r(*type, in.at() + ".block_type_id", error);
    if (!r.ids("any_", s.block_type_id_any) || !r.finish()) return false;
  }
  if (caps) {
    filter_reader r(*caps, in.at() + ".block_capabilities", error);
    if (!r.strings("all_", s.capabilities_all) || !r.finish()) return false;
  }
  if (id) {
    filter_reader r(*id, in.at() + ".id", error);
    if (!r.ids("any_", s.id_any) || !r.finish()) return false;
  }
  if (version) {
    filter_reader r(*version, in.at() + ".version", error);
    if (!r.strings("any_", s.version_any) || !r.finish()) return false;
  }
  out = std::move(s);
  return true;
}

bool document_filter(const json& body, const char* key, persistence::block_document_filter& out, response& error) {
  const json* f = nullptr;
  if (!top_object(body, key, f, error)) return false;
  if (!f) return true;
  filter_reader in(*f, key, error);
  const json *id = nullptr, *type = nullptr, *name = nullptr;
  if (!in.op(out.any_of) || !in.object("id", id) || !in.object("block_type_id", type) || !in.object("name", name))
    return false;
  // is_anonymous: absent keeps the default (hide anonymous documents); null filters nothing.
  if (f->contains("is_anonymous") && (*f)["is_anonymous"].is_null()) {
    out.is_anonymous.reset();
  }
  const json* anonymous = nullptr;
  if (!in.object("is_anonymous", anonymous) || !in.finish()) return false;
  if (anonymous) {
    filter_reader r(*anonymous, in.at() + ".is_anonymous", error);
    out.is_anonymous.reset();
    if (!r.boolean("eq_", out.is_anonymous, true) || !r.finish()) return false;
  }
  if (id) {
    filter_reader r(*id, in.at() + ".id", error);
    if (!r.ids("any_", out.id_any) || !r.finish()) return false;
  }
  if (type) {
    filter_reader r(*type, in.at() + ".block_type_id", error);
    if (!r.ids("any_", out.block_type_id_any) || !r.finish()) return false;
  }
  if (name) {
    filter_reader r(*name, in.at() + ".name", error);
    if (!r.strings("any_", out.name_any) || !r.string("like_", out.name_like) || !r.finish()) return false;
  }
  return true;
}

bool limit_offset(const json& body, std::int64_t& limit, std::int64_t& offset, response& error) {
  limit = 200;
  offset = 0;
  concurrency_fields::reader in(body);
  if (!in.integer("limit", limit, std::numeric_limits<std::int64_t>::min()) || !in.integer("offset", offset, 0)) {
    error = in.error();
    return false;
  }
  if (limit < 0) {
    error = response::detail(422, "Invalid limit: must be greater than or equal to 0.");
    return false;
  }
  if (limit > 200) {
    error = response::detail(422, "Invalid limit: must be less than or equal to 200.");
    return false;
  }
  return true;
}

std::optional<bool> include_secrets_query(const request& req, response& error) {
  auto it = req.query.find("include_secrets");
  if (it == req.query.end()) return false;
  std::string v = it->second;
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true" || v == "1" || v == "yes" || v == "on" || v == "t" || v == "y") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off" || v == "f" || v == "n") return false;
  const std::string message = "Input should be a valid boolean, unable to interpret input";
  error = query_validation_error("include_secrets", message, "bool_parsing");
  return std::nullopt;
}

response type_not_found() { return response::detail(404, "Block type not found"); }
response schema_not_found() { return response::detail(404, "Block schema not found"); }
response document_not_found() { return response::detail(404, "Block document not found"); }

response refused(const status& s) {
  if (s.code() == errc::invalid_argument) return response::detail(400, s.message());
  return error_response(s);
}

json type_json(const block_type& t) {
  return json{{"id", t.id.to_string()},
              {"created", format_iso8601(t.created)},
              {"updated", format_iso8601(t.updated)},
              {"name", t.name},
              {"slug", t.slug},
              {"logo_url", optional_json(t.logo_url)},
              {"documentation_url", optional_json(t.documentation_url)},
              {"description", optional_json(t.description)},
              {"code_example", optional_json(t.code_example)},
              {"is_protected", t.is_protected}};
}

json schema_json(const persistence::stored_block_schema& s) {
  return json{{"id", s.schema.id.to_string()},
              {"created", format_iso8601(s.schema.created)},
              {"updated", format_iso8601(s.schema.updated)},
              {"checksum", s.schema.checksum},
              {"fields", s.schema.fields},
              {"block_type_id", s.schema.type.to_string()},
              {"block_type", type_json(s.type)},
              {"capabilities", s.schema.capabilities},
              {"version", s.schema.version}};
}

json document_json(const persistence::full_block_document& d) {
  return json{{"id", d.doc.id.to_string()},
              {"created", format_iso8601(d.doc.created)},
              {"updated", format_iso8601(d.doc.updated)},
              {"name", d.doc.name},
              {"data", d.doc.data},
              {"block_schema_id", d.doc.schema.to_string()},
              {"block_schema", schema_json(d.schema)},
              {"block_type_id", d.doc.type.to_string()},
              {"block_type_name", optional_json(d.doc.block_type_name)},
              {"block_type", type_json(d.schema.type)},
              {"block_document_references", d.references},
              {"is_anonymous", d.doc.is_anonymous}};
}

}  // namespace osprey::http::block_fields
