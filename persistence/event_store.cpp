#include "persistence/event_store.hpp"

#include "domain/json_string.hpp"
#include "persistence/multi_row.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace osprey::persistence {
namespace {

using nlohmann::json;

constexpr const char* insert_event_head =
    "INSERT INTO events (id, occurred, event, resource_id, resource, related_resource_ids, related, payload, "
    "received, recorded, follows, created, updated) VALUES ";
constexpr const char* insert_event_tail = " ON CONFLICT (id) DO NOTHING RETURNING id";
constexpr std::size_t event_columns = 13;
constexpr std::size_t max_event_rows = 64;
constexpr const char* insert_event_resource_head =
    "INSERT INTO event_resources (id, occurred, resource_id, resource_role, resource, event_id, created, updated) "
    "VALUES ";
constexpr std::size_t resource_columns = 8;
constexpr std::size_t max_resource_rows = 128;  // 1,024 parameters: far below SQLite's 32766 and libpq's 65535
constexpr const char* select_events_sql =
    "SELECT events.id, events.occurred, events.event, events.resource, events.related, events.payload, "
    "events.received, events.follows FROM events WHERE ";
/// The ids travel as one JSON array, so the statement's text does not depend on how many there are.
constexpr const char* with_ids_sqlite_sql = "events.id IN (SELECT value FROM json_each($1))";
constexpr const char* with_ids_postgres_sql =
    "events.id IN (SELECT CAST(l.v AS UUID) FROM jsonb_array_elements_text(CAST($1 AS JSONB)) AS l(v))";
constexpr const char* stored_since_sql =
    "events.updated >= $1 ORDER BY events.updated DESC, events.occurred DESC, events.id DESC LIMIT $2";
constexpr const char* count_events_sql = "SELECT COUNT(*) FROM events WHERE ";
constexpr const char* order_ascending_sql = " ORDER BY events.occurred ASC, events.id ASC";
constexpr const char* order_descending_sql = " ORDER BY events.occurred DESC, events.id DESC";
/// Events whose resources (alias er) match the conditions that follow, within the filter's time window.
constexpr const char* resource_subquery_sql =
    "events.id IN (SELECT er.event_id FROM event_resources er WHERE er.occurred >= $1 AND er.occurred <= $2";

/// Builds a WHERE clause for one dialect. Parameters $1 and $2 are always the time window.
class where_builder {
 public:
  where_builder(dialect d, const event_filter& f) : dialect_(d) {
    param(ts(f.since));
    param(ts(f.until));
  }

  std::string param(sql_value v) {
    params_.push_back(std::move(v));
    return "$" + std::to_string(params_.size());
  }

  std::string json_param(const json& values) { return param(text(values.dump())); }

  /// The rows of a JSON array parameter as a one-column relation of text, named `alias.v`.
  std::string elements(const json& values, const char* alias) {
    const std::string p = json_param(values);
    if (dialect_ == dialect::sqlite) return "(SELECT value AS v FROM json_each(" + p + ")) " + alias;
    return "jsonb_array_elements_text(CAST(" + p + " AS JSONB)) AS " + alias + "(v)";
  }

  std::string in_list(const std::string& column, const std::vector<std::string>& values) {
    return column + " IN (SELECT l.v FROM " + elements(values, "l") + ")";
  }

  std::string starts_with_any(const std::string& column, const std::vector<std::string>& prefixes) {
    return "EXISTS (SELECT 1 FROM " + elements(prefixes, "p") + " WHERE substr(" + column + ", 1, length(p.v)) = p.v)";
  }

  /// Label patterns as in domain::label_matches: any pattern matches; "!" negates one; a missing value
  /// (NULL) never matches; no patterns match nothing.
  std::string glob_any(const std::string& value, const std::vector<std::string>& patterns) {
    json positive = json::array();
    json negative = json::array();
    for (const auto& pattern : patterns) {
      if (pattern.starts_with('!'))
        negative.push_back(translate_glob(pattern.substr(1)));
      else
        positive.push_back(translate_glob(pattern));
    }
    std::vector<std::string> alternatives;
    const char* op = dialect_ == dialect::sqlite ? " GLOB " : " LIKE ";
    if (!positive.empty())
      alternatives.push_back("EXISTS (SELECT 1 FROM " + elements(positive, "g") + " WHERE " + value + op + "g.v)");
    if (!negative.empty())
      alternatives.push_back("EXISTS (SELECT 1 FROM " + elements(negative, "g") + " WHERE NOT (" + value + op +
                             "g.v))");
    if (alternatives.empty()) return "1 = 0";
    std::string out = "(" + value + " IS NOT NULL AND (" + alternatives[0];
    if (alternatives.size() > 1) out += " OR " + alternatives[1];
    return out + "))";
  }

  /// The value of one label of an event_resources row (NULL when absent).
  std::string label_value(const std::string& label) {
    const std::string p = param(text(label));
    if (dialect_ == dialect::sqlite) return "(SELECT value FROM json_each(er.resource) WHERE key = " + p + ")";
    return "(er.resource ->> CAST(" + p + " AS TEXT))";
  }

  /// Conditions on event_resources rows for label patterns; prefect.resource.id and (when `role_column`)
  /// prefect.resource.role are columns there, not labels. (Every parameter made must appear in the SQL: SQLite
  /// counts parameters by the highest number used, and PostgreSQL cannot type an unused one.)
  void label_conditions(const label_patterns& labels, bool role_column, std::vector<std::string>& out) {
    for (const auto& [label, patterns] : labels) {
      // As in Prefect: no values for the id or role column means no constraint, for any other label nothing.
      const bool column = label == resource_id_label || (role_column && label == resource_role_label);
      if (patterns.empty()) {
        if (!column) out.push_back("1 = 0");
      } else if (label == resource_id_label) {
        out.push_back(glob_any("er.resource_id", patterns));
      } else if (column) {
        out.push_back(in_list("er.resource_role", patterns));
      } else {
        out.push_back(glob_any(label_value(label), patterns));
      }
    }
  }

  std::string resource_subquery(const std::vector<std::string>& conditions) {
    std::string out = resource_subquery_sql;
    for (const auto& c : conditions) out += " AND " + c;
    return out + ")";
  }

  std::string ids(const std::vector<uuid>& values) {
    json list = json::array();
    for (const auto& id : values) list.push_back(id.to_string());
    if (dialect_ == dialect::sqlite) return "events.id IN (SELECT l.v FROM " + elements(list, "l") + ")";
    return "events.id IN (SELECT CAST(l.v AS UUID) FROM " + elements(list, "l") + ")";
  }

  std::string pairs(const std::vector<std::pair<std::string, std::string>>& values) {
    json list = json::array();
    for (const auto& [id, role] : values) list.push_back({id, role});
    const std::string p = json_param(list);
    if (dialect_ == dialect::sqlite)
      return "EXISTS (SELECT 1 FROM json_each(" + p +
             ") r WHERE er.resource_id = json_extract(r.value, '$[0]') AND er.resource_role = json_extract(r.value, "
             "'$[1]'))";
    return "EXISTS (SELECT 1 FROM jsonb_array_elements(CAST(" + p +
           " AS JSONB)) AS r(v) WHERE er.resource_id = r.v ->> 0 AND er.resource_role = r.v ->> 1)";
  }

  [[nodiscard]] sql_params& params() { return params_; }

 private:
  /// A `*`/`?` glob as the dialect's pattern: SQLite GLOB (only `[` needs escaping) or PostgreSQL LIKE
  /// (backslash escapes `%`, `_` and itself). Both are case-sensitive.
  [[nodiscard]] std::string translate_glob(const std::string& glob) const {
    std::string out;
    for (const char c : glob) {
      if (dialect_ == dialect::sqlite) {
        if (c == '[')
          out += "[[]";
        else
          out.push_back(c);
      } else if (c == '\\' || c == '%' || c == '_') {
        out.push_back('\\');
        out.push_back(c);
      } else if (c == '*') {
        out.push_back('%');
      } else if (c == '?') {
        out.push_back('_');
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  dialect dialect_;
  sql_params params_;
};

/// The WHERE clause (without "WHERE") of `f`, with its parameters in `b`.
std::string where_clause(const event_filter& f, where_builder& b) {
  std::vector<std::string> clauses = {"events.occurred >= $1", "events.occurred <= $2"};
  if (!f.prefixes.empty()) clauses.push_back(b.starts_with_any("events.event", f.prefixes));
  if (!f.exclude_prefixes.empty()) clauses.push_back("NOT " + b.starts_with_any("events.event", f.exclude_prefixes));
  if (!f.names.empty()) clauses.push_back(b.in_list("events.event", f.names));
  if (!f.exclude_names.empty()) clauses.push_back("NOT " + b.in_list("events.event", f.exclude_names));
  if (!f.ids.empty()) clauses.push_back(b.ids(f.ids));
  if (f.resource) {
    const auto& c = *f.resource;
    if (!c.ids.empty()) clauses.push_back(b.in_list("events.resource_id", c.ids));
    if (!c.id_prefixes.empty()) clauses.push_back(b.starts_with_any("events.resource_id", c.id_prefixes));
    if (!c.labels.empty()) {
      std::vector<std::string> conditions = {"er.resource_role = ''"};
      b.label_conditions(c.labels, false, conditions);
      clauses.push_back(b.resource_subquery(conditions));
    }
  }
  for (const auto& c : f.related) {
    std::vector<std::string> conditions;
    if (!c.ids.empty()) conditions.push_back(b.in_list("er.resource_id", c.ids));
    if (c.roles.empty())
      conditions.push_back("er.resource_role <> ''");
    else
      conditions.push_back(b.in_list("er.resource_role", c.roles));
    if (!c.resources_in_roles.empty()) conditions.push_back(b.pairs(c.resources_in_roles));
    b.label_conditions(c.labels, true, conditions);
    clauses.push_back(b.resource_subquery(conditions));
  }
  for (const auto& c : f.any_resource) {
    std::vector<std::string> conditions;
    if (!c.ids.empty()) conditions.push_back(b.in_list("er.resource_id", c.ids));
    if (!c.id_prefixes.empty()) conditions.push_back(b.starts_with_any("er.resource_id", c.id_prefixes));
    b.label_conditions(c.labels, true, conditions);
    clauses.push_back(b.resource_subquery(conditions));
  }
  std::string out;
  for (const auto& clause : clauses) {
    if (!out.empty()) out += " AND ";
    out += clause;
  }
  return out;
}

resource_labels labels_from(const json& j) {
  resource_labels out;
  if (!j.is_object()) return out;
  for (const auto& [key, value] : j.items())
    if (value.is_string()) out.emplace(key, value.get<std::string>());
  return out;
}

json parse_column(const sql_row& row, std::size_t i, const json& fallback) {
  if (row.is_null(i)) return fallback;
  auto j = json::parse(row.text(i), nullptr, false);
  return j.is_discarded() ? fallback : j;
}

event event_from_row(const sql_row& row) {
  event e;
  e.id = row.id(0);
  e.occurred = row.time(1);
  e.name = row.text(2);
  e.resource = labels_from(parse_column(row, 3, json::object()));
  const json related = parse_column(row, 4, json::array());
  if (related.is_array())
    for (const auto& r : related) e.related.push_back(labels_from(r));
  e.payload = parse_column(row, 5, json::object());
  e.received = row.time(6);
  if (!row.is_null(7)) e.follows = row.id(7);
  return e;
}

/// Appends a resource's labels as a JSON object, the text json(labels).dump() gives, without building the json
/// value (events are stored by the thousand per second, and this was a visible part of their CPU). `stored`
/// leaves out the id and role, as event_resources stores them (those are columns).
void append_labels(std::string& out, const resource_labels& labels, bool stored = false) {
  out.push_back('{');
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (stored && (key == resource_id_label || key == resource_role_label)) continue;
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, key);
    out.push_back(':');
    append_json_string(out, value);
  }
  out.push_back('}');
}

std::string labels_text(const resource_labels& labels, bool stored = false) {
  std::string out;
  append_labels(out, labels, stored);
  return out;
}

const chunk_statements& event_statements() {
  static const chunk_statements texts(insert_event_head, insert_event_tail, event_columns, max_event_rows);
  return texts;
}

const chunk_statements& resource_statements() {
  static const chunk_statements texts(insert_event_resource_head, "", resource_columns, max_resource_rows);
  return texts;
}

// The row id is time-ordered (v7, by when it is recorded), so each insert lands at the end of the primary key's
// index instead of on a random page of it (an event has a row per resource, so these are most of the rows the
// writer inserts under load).
/// One event_resources row; `occurred` and `event_id` are the event's, already as bound values (the same for
/// each of its resources, so formatted once), `recorded_at` the batch's time for created and updated (given, not
/// left to the columns' defaults: SQLite would format the time twice per row).
void add_resource_row(sql_params& out, const sql_value& occurred, const sql_value& event_id,
                      const resource_labels& labels, const std::string& role, timestamp recorded,
                      const sql_value& recorded_at) {
  out.push_back(id(new_uuid7(recorded)));
  out.push_back(occurred);
  out.push_back(text(labels.at(std::string(resource_id_label))));
  out.push_back(text(role));
  out.push_back(text(labels_text(labels, /*stored=*/true)));
  out.push_back(event_id);
  out.push_back(recorded_at);
  out.push_back(recorded_at);
}

/// The event_resources rows of the events where `include(index)` is true, as chunked statements.
template <class Include>
std::vector<chunk_statements::statement> resource_rows(const event_refs& events, timestamp recorded, Include include) {
  sql_params values;
  const sql_value recorded_at = ts(recorded);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!include(i)) continue;
    const auto& e = *events[i];
    const sql_value occurred = ts(e.occurred);
    const sql_value event_id = id(e.id);
    add_resource_row(values, occurred, event_id, e.resource, "", recorded, recorded_at);
    for (const auto& r : e.related)
      add_resource_row(values, occurred, event_id, r, r.at(std::string(resource_role_label)), recorded, recorded_at);
  }
  return resource_statements().chunked(std::move(values));
}

event_refs refs_to(const std::vector<event>& events) {
  event_refs out;
  out.reserve(events.size());
  for (const auto& e : events) out.push_back(&e);
  return out;
}

}  // namespace

event_insert prepare_event_insert(const std::vector<event>& events, timestamp recorded) {
  return prepare_event_insert(refs_to(events), recorded);
}

std::vector<bool> insert_prepared_events(sql_connection& conn, const std::vector<event>& events,
                                         const event_insert& prepared) {
  return insert_prepared_events(conn, refs_to(events), prepared);
}

event_insert prepare_event_insert(const event_refs& events, timestamp recorded) {
  event_insert out;
  out.recorded = recorded;
  out.ids.reserve(events.size());
  sql_params values;
  values.reserve(events.size() * event_columns);
  const sql_value recorded_at = ts(recorded);
  for (const auto* event : events) {
    const auto& e = *event;
    out.ids.push_back(e.id);
    std::string related = "[";
    std::string related_ids = "[";
    for (const auto& r : e.related) {
      if (related.size() > 1) {
        related.push_back(',');
        related_ids.push_back(',');
      }
      append_labels(related, r);
      append_json_string(related_ids, r.at(std::string(resource_id_label)));
    }
    related.push_back(']');
    related_ids.push_back(']');
    values.insert(values.end(), {id(e.id), ts(e.occurred), text(e.name), text(e.resource_id()),
                                 text(labels_text(e.resource)), text(std::move(related_ids)), text(std::move(related)),
                                 text(e.payload.dump()), e.received ? ts(*e.received) : recorded_at, recorded_at,
                                 e.follows ? id(*e.follows) : null_value(), recorded_at, recorded_at});
  }
  out.events = event_statements().chunked(std::move(values));
  out.resources = resource_rows(events, recorded, [](std::size_t) { return true; });
  return out;
}

std::vector<bool> insert_prepared_events(sql_connection& conn, const event_refs& events, const event_insert& prepared) {
  std::unordered_set<uuid> fresh;  // RETURNING names the rows inserted
  for (const auto& st : prepared.events)
    for (const auto& row : conn.query(st.sql, st.params)) fresh.insert(row.id(0));
  std::vector<bool> inserted(prepared.ids.size(), false);
  bool all = true;
  for (std::size_t i = 0; i < prepared.ids.size(); ++i) {
    // A repeated id was inserted once, by its first row; the later ones were skipped.
    inserted[i] = fresh.erase(prepared.ids[i]) > 0;
    all = all && inserted[i];
  }
  if (all) {
    for (const auto& st : prepared.resources) conn.execute(st.sql, st.params);
  } else {
    for (const auto& st : resource_rows(events, prepared.recorded, [&](std::size_t i) { return inserted[i]; }))
      conn.execute(st.sql, st.params);
  }
  return inserted;
}

std::vector<bool> insert_events(sql_connection& conn, const std::vector<event>& events, timestamp recorded) {
  return insert_prepared_events(conn, events, prepare_event_insert(events, recorded));
}

std::vector<event> query_events(sql_connection& conn, const event_filter& filter, std::int64_t limit,
                                std::int64_t offset) {
  where_builder b(conn.dialect(), filter);
  std::string sql = select_events_sql + where_clause(filter, b);
  sql += filter.order == event_order::ascending ? order_ascending_sql : order_descending_sql;
  sql += " LIMIT " + b.param(integer(limit)) + " OFFSET " + b.param(integer(offset));
  std::vector<event> out;
  for (const auto& row : conn.query(sql, b.params())) out.push_back(event_from_row(row));
  return out;
}

std::vector<event> events_with_ids(sql_connection& conn, const std::vector<uuid>& ids) {
  if (ids.empty()) return {};
  json list = json::array();
  for (const auto& id : ids) list.push_back(id.to_string());
  const char* where = conn.dialect() == dialect::sqlite ? with_ids_sqlite_sql : with_ids_postgres_sql;
  std::unordered_map<uuid, event> found;
  for (const auto& row : conn.query(std::string(select_events_sql) + where, {text(list.dump())})) {
    auto e = event_from_row(row);
    found.emplace(e.id, std::move(e));
  }
  std::vector<event> out;
  out.reserve(found.size());
  for (const auto& id : ids) {
    auto it = found.find(id);
    if (it == found.end()) continue;
    out.push_back(std::move(it->second));
    found.erase(it);  // a repeated id comes out once
  }
  return out;
}

std::vector<event> events_stored_since(sql_connection& conn, timestamp since, std::int64_t limit) {
  // The newest `limit` (descending), turned oldest first.
  auto rows = conn.query(std::string(select_events_sql) + stored_since_sql, {ts(since), integer(limit)});
  std::vector<event> out;
  out.reserve(rows.size());
  for (auto row = rows.rbegin(); row != rows.rend(); ++row) out.push_back(event_from_row(*row));
  return out;
}

std::vector<event> events_received_after(sql_connection& conn, timestamp after, std::int64_t limit) {
  auto rows =
      conn.query(std::string(select_events_sql) + "events.received > $1 ORDER BY events.received, events.id LIMIT $2",
                 {ts(after), integer(limit)});
  std::vector<event> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(event_from_row(row));
  return out;
}

std::int64_t count_events(sql_connection& conn, const event_filter& filter) {
  where_builder b(conn.dialect(), filter);
  const auto rows = conn.query(count_events_sql + where_clause(filter, b), b.params());
  return rows.empty() ? 0 : rows.front().integer(0);
}

}  // namespace osprey::persistence

namespace osprey::persistence {

std::vector<event_group> group_events(sql_connection& conn, const event_filter& filter, event_grouping by) {
  where_builder b(conn.dialect(), filter);
  const bool pg = conn.dialect() == dialect::postgresql;
  // The resource's display name: prefect.resource.name, else prefect.name, else its id (Prefect's label).
  const std::string label = by == event_grouping::event ? "events.event"
                            : pg ? "COALESCE(events.resource::jsonb ->> 'prefect.resource.name', "
                                   "events.resource::jsonb ->> 'prefect.name', events.resource_id)"
                                 : "COALESCE(json_extract(events.resource, '$.\"prefect.resource.name\"'), "
                                   "json_extract(events.resource, '$.\"prefect.name\"'), events.resource_id)";
  const std::string value = by == event_grouping::event ? "events.event" : "events.resource_id";
  const auto sql = "SELECT " + value + ", " + label +
                   ", count(*), min(events.occurred), max(events.occurred) FROM events WHERE " +
                   where_clause(filter, b) + " GROUP BY " + value + ", " + label;
  std::vector<event_group> out;
  for (const auto& row : conn.query(sql, b.params()))
    out.push_back({row.text(0), row.text(1), row.integer(2), row.time(3), row.time(4)});
  return out;
}

std::vector<timestamp> event_times(sql_connection& conn, const event_filter& filter) {
  where_builder b(conn.dialect(), filter);
  std::vector<timestamp> out;
  for (const auto& row : conn.query("SELECT events.occurred FROM events WHERE " + where_clause(filter, b), b.params()))
    out.push_back(row.time(0));
  return out;
}

}  // namespace osprey::persistence
