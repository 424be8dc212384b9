#pragma once
// Internal to http/: the block routes' request readers (filters, include_secrets, limit/offset) with
// FastAPI/pydantic-style 422 answers, and Prefect's JSON shapes of block types, schemas and documents.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "http/message.hpp"
#include "persistence/block_store.hpp"

namespace osprey::http::block_fields {

/// Reads the filter object at `key` of `body` (absent or null: nullopt, and `present` false). False with a 422
/// in `error` when it is not a valid filter (unknown keys refused, as Prefect's filter models).
bool type_filter(const nlohmann::json& body, const char* key, std::optional<persistence::block_type_filter>& out,
                 response& error);
bool schema_filter(const nlohmann::json& body, const char* key, std::optional<persistence::block_schema_filter>& out,
                   response& error);
/// The document filter; absent or null gives Prefect's default (anonymous documents hidden).
bool document_filter(const nlohmann::json& body, const char* key, persistence::block_document_filter& out,
                     response& error);

/// limit (default 200, 0..200 as Prefect's LimitBody: a plain {"detail"} beyond) and offset (>= 0).
bool limit_offset(const nlohmann::json& body, std::int64_t& limit, std::int64_t& offset, response& error);

/// The query parameter `include_secrets` as FastAPI reads a bool (true/false, 1/0, yes/no, on/off, t/f, y/n);
/// absent: false. nullopt after a 422 in `error`.
std::optional<bool> include_secrets_query(const request& req, response& error);

/// The 404 answers.
response type_not_found();
response schema_not_found();
response document_not_found();

/// A domain refusal of the block routes: invalid_argument is Prefect's 400 (its ValueError answers); the rest as
/// error_response.
response refused(const status& s);

nlohmann::json type_json(const block_type& t);
nlohmann::json schema_json(const persistence::stored_block_schema& s);
nlohmann::json document_json(const persistence::full_block_document& d);

}  // namespace osprey::http::block_fields
