// The event store on SQLite and PostgreSQL: inserts are idempotent by event id, and every filter selects in SQL
// exactly what the in-memory matcher accepts (the live stream and the backfill must agree).
#include <gtest/gtest.h>

#include <algorithm>

#include "domain/event.hpp"
#include "persistence/event_store.hpp"
#include "persistence/multi_row.hpp"
#include "tests/support/scratch.hpp"

using namespace osprey;
using namespace std::chrono_literals;
using nlohmann::json;
using persistence::dialect;

namespace {

const timestamp t0 = *parse_iso8601("2026-03-01T12:00:00Z");

event make_event(int i, std::string name, resource_labels resource, std::vector<resource_labels> related = {}) {
  event e;
  e.id = new_uuid7(t0 + std::chrono::seconds(i));
  e.occurred = t0 + std::chrono::seconds(i);
  e.name = std::move(name);
  e.resource = std::move(resource);
  e.related = std::move(related);
  e.payload = {{"i", i}};
  e.received = t0 + std::chrono::seconds(i) + 1ms;
  return e;
}

resource_labels rel(const std::string& id, const std::string& role, resource_labels extra = {}) {
  extra["prefect.resource.id"] = id;
  extra["prefect.resource.role"] = role;
  return extra;
}

/// A small, varied history: flow-run and task-run events, tags, a work pool, odd label values.
std::vector<event> history() {
  return {
      make_event(
          0, "prefect.flow-run.Scheduled",
          {{"prefect.resource.id", "prefect.flow-run.a"}, {"prefect.resource.name", "etl-nightly"}},
          {rel("prefect.flow.f1", "flow", {{"prefect.resource.name", "etl"}}), rel("prefect.tag.nightly", "tag")}),
      make_event(1, "prefect.flow-run.Running",
                 {{"prefect.resource.id", "prefect.flow-run.a"}, {"prefect.resource.name", "etl-nightly"}},
                 {rel("prefect.flow.f1", "flow"),
                  rel("prefect.work-pool.p1", "work-pool", {{"prefect.work-pool.type", "process"}})}),
      make_event(2, "prefect.task-run.Running",
                 {{"prefect.resource.id", "prefect.task-run.t1"}, {"prefect.resource.name", "load_1"}},
                 {rel("prefect.flow-run.a", "flow-run"), rel("prefect.tag.nightly", "tag")}),
      make_event(3, "prefect.flow-run.Cancelling",
                 {{"prefect.resource.id", "prefect.flow-run.b"}, {"prefect.resource.name", "adhoc%_[x]"}},
                 {rel("prefect.work-pool.p2", "work-pool")}),
      make_event(4, "prefect.task-run.Completed",
                 {{"prefect.resource.id", "prefect.task-run.t1"}, {"prefect.resource.name", "LOAD_1"}}),
      make_event(5, "custom.Event", {{"prefect.resource.id", "my.thing"}, {"colour", "red"}}),
  };
}

class EventStore : public ::testing::TestWithParam<dialect> {
 protected:
  void SetUp() override {
    OSPREY_SKIP_IF_UNAVAILABLE(db_);
    conn_ = db_.connect_at_head();
    ASSERT_TRUE(conn_);
  }

  std::vector<bool> insert(const std::vector<event>& events) {
    conn_->begin_write();
    auto inserted = persistence::insert_events(*conn_, events, t0 + 1h);
    conn_->commit();
    return inserted;
  }

  std::vector<std::string> stored_ids(const event_filter& f, std::int64_t limit = 100, std::int64_t offset = 0) {
    std::vector<std::string> out;
    for (const auto& e : persistence::query_events(*conn_, f, limit, offset)) out.push_back(e.id.to_string());
    return out;
  }

  osprey::testing::scratch_database db_{GetParam()};
  std::unique_ptr<persistence::sql_connection> conn_;
};

event_filter parse_filter(const json& j) {
  json with_window = j;
  with_window["occurred"] = {{"since", "2026-03-01T00:00:00Z"}, {"until", "2026-03-02T00:00:00Z"}};
  with_window["order"] = "ASC";
  auto f = parse_event_filter(with_window, t0);
  EXPECT_TRUE(f) << (f ? "" : f.error().message());
  return *f;
}

}  // namespace

TEST_P(EventStore, StoresEachEventOnceByItsId) {
  auto events = history();
  EXPECT_EQ(insert(events), std::vector<bool>(events.size(), true));
  auto again = events;
  again.push_back(events[0]);  // a repeat inside one batch, too
  again.push_back(make_event(9, "late.one", {{"prefect.resource.id", "x"}}));
  auto inserted = insert(again);
  EXPECT_EQ(std::count(inserted.begin(), inserted.end(), true), 1);
  EXPECT_TRUE(inserted.back());
  EXPECT_EQ(conn_->query("SELECT COUNT(*) FROM events").front().integer(0), 7);
  // One event_resources row per resource of each stored event.
  EXPECT_EQ(conn_->query("SELECT COUNT(*) FROM event_resources").front().integer(0), 6 + 8);
}

// More rows than one multi-row statement holds (64 events, 128 resource rows), with repeats in other chunks.
TEST_P(EventStore, StoresBatchesLargerThanOneStatementAndSkipsRepeatsAcrossChunks) {
  std::vector<event> events;
  for (int i = 0; i < 150; ++i)
    events.push_back(make_event(i, "big.batch", {{"prefect.resource.id", "r" + std::to_string(i)}},
                                {rel("prefect.flow-run.a", "flow-run"), rel("prefect.tag.t", "tag")}));
  auto first = std::vector<event>(events.begin(), events.begin() + 70);
  EXPECT_EQ(insert(first), std::vector<bool>(70, true));
  auto all = events;
  all.push_back(events[100]);  // a repeat of a new event, in a later chunk than its first row
  const auto inserted = insert(all);
  ASSERT_EQ(inserted.size(), 151u);
  for (std::size_t i = 0; i < inserted.size(); ++i) EXPECT_EQ(inserted[i], i >= 70 && i < 150) << i;
  EXPECT_EQ(conn_->query("SELECT COUNT(*) FROM events").front().integer(0), 150);
  EXPECT_EQ(conn_->query("SELECT COUNT(*) FROM event_resources").front().integer(0), 150 * 3);
  EXPECT_EQ(conn_->query("SELECT COUNT(*) FROM event_resources WHERE event_id = $1", {persistence::id(events[120].id)})
                .front()
                .integer(0),
            3);
  const auto last = parse_filter({{"id", {{"id", {events[149].id.to_string()}}}}});
  const auto stored = persistence::query_events(*conn_, last, 10, 0);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(to_json(stored[0]), to_json(events[149]));
}

TEST_P(EventStore, ReadsBackWhatWasWritten) {
  auto events = history();
  events[0].follows = new_uuid4();
  insert(events);
  const auto stored =
      persistence::query_events(*conn_, parse_filter({{"id", {{"id", {events[0].id.to_string()}}}}}), 10, 0);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(to_json(stored[0]), to_json(events[0]));
}

TEST_P(EventStore, OrdersAndPages) {
  const auto events = history();
  insert(events);
  auto f = parse_filter(json::object());
  EXPECT_EQ(persistence::count_events(*conn_, f), 6);
  const auto asc = stored_ids(f);
  ASSERT_EQ(asc.size(), 6u);
  EXPECT_EQ(asc.front(), events[0].id.to_string());
  EXPECT_EQ(stored_ids(f, 2, 2), (std::vector<std::string>{asc[2], asc[3]}));
  f.order = event_order::descending;
  auto desc = stored_ids(f);
  std::reverse(desc.begin(), desc.end());
  EXPECT_EQ(desc, asc);
  f.until = t0 + 2s;  // the window is inclusive at both ends
  f.since = t0 + 1s;
  EXPECT_EQ(persistence::count_events(*conn_, f), 2);
}

TEST_P(EventStore, SqlSelectsWhatTheMatcherAccepts) {
  const auto events = history();
  insert(events);
  const std::vector<json> filters = {
      json::object(),
      {{"event", {{"prefix", {"prefect.flow-run."}}}}},
      {{"event", {{"prefix", {"prefect."}}, {"exclude_prefix", {"prefect.task-run."}}}}},
      {{"event", {{"name", {"prefect.flow-run.Cancelling", "custom.Event"}}}}},
      {{"event", {{"exclude_name", {"custom.Event"}}}}},
      {{"resource", {{"id", {"prefect.flow-run.a"}}}}},
      {{"resource", {{"id_prefix", {"prefect.task-run."}}}}},
      {{"resource", {{"labels", {{"prefect.resource.name", "etl-*"}}}}}},
      {{"resource", {{"labels", {{"prefect.resource.name", "load_?"}}}}}},      // case-sensitive
      {{"resource", {{"labels", {{"prefect.resource.name", "adhoc%_[x]"}}}}}},  // SQL wildcards are literal
      {{"resource", {{"labels", {{"prefect.resource.name", "!etl-*"}}}}}},
      {{"resource", {{"labels", {{"prefect.resource.id", {"prefect.flow-run.*", "my.*"}}}}}}},
      {{"resource", {{"labels", {{"colour", "red"}}}}}},
      {{"resource", {{"labels", {{"colour", json::array()}}}}}},
      {{"resource", {{"labels", {{"prefect.resource.id", json::array()}}}}}},
      {{"any_resource",
        {{"labels", {{"prefect.resource.role", json::array()}, {"prefect.resource.id", "prefect.tag.*"}}}}}},
      {{"related", {{"role", {"tag"}}}}},
      {{"related", {{"id", {"prefect.flow.f1"}}}}},
      {{"related", {{"id", {"prefect.flow-run.a"}}}}},  // primary resources are not related ones
      {{"related", {{"resources_in_roles", json::array({json::array({"prefect.work-pool.p1", "work-pool"})})}}}},
      {{"related", {{"labels", {{"prefect.resource.role", "work-pool"}, {"prefect.work-pool.type", "proc*"}}}}}},
      {{"related", json::array({{{"role", {"flow"}}}, {{"role", {"tag"}}}})}},
      {{"any_resource", {{"id", {"prefect.flow-run.a"}}}}},
      {{"any_resource", {{"id_prefix", {"prefect.work-pool."}}}}},
      {{"any_resource", {{"labels", {{"prefect.resource.id", "prefect.tag.*"}}}}}},
      {{"event", {{"name", {"prefect.flow-run.Cancelling"}}}}, {"any_resource", {{"id", {"prefect.work-pool.p2"}}}}},
      {{"id", {{"id", {events[4].id.to_string(), new_uuid4().to_string()}}}}},
  };
  for (const auto& j : filters) {
    const auto f = parse_filter(j);
    std::vector<std::string> expected;
    for (const auto& e : events)
      if (matches(f, e)) expected.push_back(e.id.to_string());
    EXPECT_EQ(stored_ids(f), expected) << j.dump();
    EXPECT_EQ(persistence::count_events(*conn_, f), static_cast<std::int64_t>(expected.size())) << j.dump();
  }
}

TEST_P(EventStore, ReadsEventsByIdInTheOrderAskedLeavingOutUnknownIds) {
  const auto events = history();
  insert(events);
  std::vector<uuid> read;
  for (const auto& e : persistence::events_with_ids(*conn_, {events[3].id, new_uuid4(), events[0].id, events[3].id}))
    read.push_back(e.id);
  EXPECT_EQ(read, (std::vector<uuid>{events[3].id, events[0].id}));
  EXPECT_TRUE(persistence::events_with_ids(*conn_, {}).empty());
}

TEST_P(EventStore, ReadsTheNewestStoredSinceAMomentOldestFirst) {
  const auto events = history();
  insert(events);
  // events.updated is when the storing transaction began; set it apart per event here.
  for (std::size_t i = 0; i < events.size(); ++i)
    conn_->execute("UPDATE events SET updated = $1 WHERE id = $2",
                   {persistence::ts(t0 + std::chrono::minutes(i)), persistence::id(events[i].id)});
  std::vector<uuid> read;
  for (const auto& e : persistence::events_stored_since(*conn_, t0 + 3min, 2)) read.push_back(e.id);
  EXPECT_EQ(read, (std::vector<uuid>{events[4].id, events[5].id}));
  EXPECT_EQ(persistence::events_stored_since(*conn_, t0 + 3min, 100).size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(D, EventStore, ::testing::ValuesIn(osprey::testing::all_dialects()),
                         osprey::testing::dialect_test_name<::testing::TestParamInfo<dialect>>);

TEST(MultiRowInsert, CutsRowsIntoPowerOfTwoChunksLargestFirst) {
  using persistence::row_chunks;
  EXPECT_TRUE(row_chunks(0, 64).empty());
  EXPECT_EQ(row_chunks(13, 64), (std::vector<std::size_t>{8, 4, 1}));
  EXPECT_EQ(row_chunks(150, 64), (std::vector<std::size_t>{64, 64, 16, 4, 2}));
  EXPECT_EQ(row_chunks(5, 100), (std::vector<std::size_t>{4, 1}));  // the cap rounds down to a power of two
  EXPECT_EQ(persistence::values_placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
}
