// Events and EventFilters: parsing with clear errors, the in-memory matcher, and the server's flow-run events.
#include "domain/event.hpp"

#include <gtest/gtest.h>

using namespace osprey;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const timestamp t0 = *parse_iso8601("2026-03-01T12:00:00Z");

json sample_event() {
  return {{"id", "0194f0c6-3f49-7d3a-9a57-0b2d4c6f1e21"},
          {"occurred", "2026-03-01T12:00:00.250000+00:00"},
          {"event", "prefect.task-run.Running"},
          {"resource", {{"prefect.resource.id", "prefect.task-run.abc"}, {"prefect.resource.name", "load-1"}}},
          {"related",
           {{{"prefect.resource.id", "prefect.flow-run.f1"}, {"prefect.resource.role", "flow-run"}},
            {{"prefect.resource.id", "prefect.tag.nightly"}, {"prefect.resource.role", "tag"}}}},
          {"payload", {{"intended", {{"from", "PENDING"}, {"to", "RUNNING"}}}}},
          {"follows", nullptr}};
}

event sample() { return *parse_event(sample_event()); }

std::string error_of(const json& j) {
  auto e = parse_event(j);
  return e ? std::string("(parsed)") : e.error().message();
}

/// [[id, role]] (a brace list of two strings would read as an object).
json pairs(std::pair<std::string, std::string> p) { return json::array({json::array({p.first, p.second})}); }

event_filter filter(const json& j) {
  auto f = parse_event_filter(j, t0 + 1h);
  EXPECT_TRUE(f) << (f ? "" : f.error().message());
  return f ? *f : default_event_filter(t0);
}

}  // namespace

TEST(EventParse, ReadsTheClientShape) {
  const event e = sample();
  EXPECT_EQ(e.id.to_string(), "0194f0c6-3f49-7d3a-9a57-0b2d4c6f1e21");
  EXPECT_EQ(e.occurred, t0 + 250ms);
  EXPECT_EQ(e.name, "prefect.task-run.Running");
  EXPECT_EQ(e.resource_id(), "prefect.task-run.abc");
  ASSERT_EQ(e.related.size(), 2u);
  EXPECT_EQ(e.related[0].at("prefect.resource.role"), "flow-run");
  EXPECT_EQ(e.payload["intended"]["to"], "RUNNING");
  EXPECT_FALSE(e.follows);
  EXPECT_FALSE(e.received);
}

TEST(EventParse, DefaultsRelatedAndPayloadAndIgnoresExtrasAndReceived) {
  json j = sample_event();
  j.erase("related");
  j.erase("payload");
  j["received"] = "2020-01-01T00:00:00Z";
  j["something_new"] = 1;
  auto e = parse_event(j);
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_TRUE(e->related.empty());
  EXPECT_EQ(e->payload, json::object());
  EXPECT_FALSE(e->received);
}

TEST(EventParse, RefusesBadEventsWithTheFieldInTheMessage) {
  auto without = [](const char* key) {
    json j = sample_event();
    j.erase(key);
    return j;
  };
  EXPECT_EQ(error_of(without("id")), "id: Field required");
  EXPECT_EQ(error_of(without("occurred")), "occurred: Field required");
  EXPECT_EQ(error_of(without("event")), "event: Field required");
  EXPECT_EQ(error_of(without("resource")), "resource: Field required");

  json j = sample_event();
  j["id"] = "not-a-uuid";
  EXPECT_EQ(error_of(j), "id: Input should be a valid UUID, got 'not-a-uuid'");
  j = sample_event();
  j["occurred"] = "yesterday";
  EXPECT_EQ(error_of(j), "occurred: Input should be a valid datetime, got 'yesterday'");
  j["occurred"] = "0000-01-01T00:00:00+23:59";  // before year 1 in UTC: stored, it could not be read back
  EXPECT_EQ(error_of(j), "occurred: Input should be a valid datetime, got '0000-01-01T00:00:00+23:59'");
  j = sample_event();
  j["resource"] = {{"prefect.resource.name", "x"}};
  EXPECT_EQ(error_of(j), "resource: Resources must include the prefect.resource.id label");
  j["resource"] = {{"prefect.resource.id", ""}};
  EXPECT_EQ(error_of(j), "resource: The prefect.resource.id label must be non-empty");
  j["resource"] = {{"prefect.resource.id", "x"}, {"count", 3}};
  EXPECT_EQ(error_of(j), "resource.count: Label values must be strings");
  j = sample_event();
  j["related"] = {{{"prefect.resource.id", "prefect.flow.1"}}};
  EXPECT_EQ(error_of(j), "related.0: Related Resources must include the prefect.resource.role label");
  j = sample_event();
  j["payload"] = json::array();
  EXPECT_EQ(error_of(j), "payload: Input should be a valid dictionary");
  j = sample_event();
  j["payload"] = {{"text", std::string("a\0b", 3)}};
  EXPECT_EQ(error_of(j), "event: Strings must not contain the NUL character (\\u0000)");
  j = sample_event();
  j["follows"] = 7;
  EXPECT_EQ(error_of(j), "follows: Input should be a valid UUID string");
}

TEST(EventParse, EnforcesPrefectsLimits) {
  json j = sample_event();
  j["event"] = std::string(1024, 'e');
  EXPECT_TRUE(parse_event(j));
  j["event"] = std::string(1025, 'e');
  EXPECT_EQ(error_of(j), "event: Event name must be at most 1024 characters");

  j = sample_event();
  j["related"] = json::array();
  for (int i = 0; i < 101; ++i)
    j["related"].push_back({{"prefect.resource.id", "r" + std::to_string(i)}, {"prefect.resource.role", "x"}});
  EXPECT_EQ(error_of(j), "related: The maximum number of related resources is 100");

  j = sample_event();
  for (int i = 0; i < 500; ++i) j["resource"]["label-" + std::to_string(i)] = "v";
  EXPECT_EQ(error_of(j), "resource: The maximum number of labels per resource is 500");

  EXPECT_FALSE(parse_event_text(std::string(max_event_bytes + 1, ' ')));
  EXPECT_EQ(parse_event_text("{not json").error().message(), "event: not valid JSON");
}

TEST(EventParse, MultiByteNamesCountCharactersNotBytes) {
  json j = sample_event();
  std::string name;
  for (int i = 0; i < 1024; ++i) name += "\xC3\xA9";  // 1024 × 'é', 2048 bytes
  j["event"] = name;
  EXPECT_TRUE(parse_event(j));
}

TEST(EventJson, RoundTripsAsAReceivedEvent) {
  event e = sample();
  e.follows = new_uuid4();
  e.received = t0 + 2s;
  const json out = to_json(e);
  EXPECT_EQ(out["occurred"], "2026-03-01T12:00:00.250000Z");
  EXPECT_EQ(out["received"], "2026-03-01T12:00:02.000000Z");
  EXPECT_EQ(out["follows"], e.follows->to_string());
  auto back = parse_received_event(out);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(to_json(*back), out);

  e.received.reset();
  EXPECT_FALSE(to_json(e).contains("received"));
  EXPECT_FALSE(parse_received_event(to_json(e)));
}

TEST(EventFilterParse, DefaultsToTheLast180DaysUntilNowNewestFirst) {
  const timestamp now = *parse_iso8601("2026-03-01T15:30:00Z");
  for (const json& j : {json(nullptr), json::object()}) {
    auto f = parse_event_filter(j, now);
    ASSERT_TRUE(f);
    EXPECT_EQ(format_iso8601(f->since), "2025-09-02T00:00:00.000000Z");
    EXPECT_EQ(f->until, now);
    EXPECT_EQ(f->order, event_order::descending);
  }
}

TEST(EventFilterParse, ReadsWhatThePrefectClientDumps) {
  // PrefectEventSubscriber sends its whole model, nulls included.
  const json client = {
      {"occurred", {{"since", "2026-03-01T11:59:00+00:00"}, {"until", "2027-03-01T12:00:00+00:00"}}},
      {"event",
       {{"prefix", nullptr},
        {"exclude_prefix", nullptr},
        {"name", {"prefect.flow-run.Cancelling"}},
        {"exclude_name", nullptr}}},
      {"resource", nullptr},
      {"related", nullptr},
      {"any_resource", {{"id", {"prefect.work-pool.p1"}}, {"id_prefix", nullptr}, {"labels", nullptr}}},
      {"id", {{"id", json::array()}}},
      {"text", nullptr},
      {"order", "DESC"}};
  const auto f = filter(client);
  EXPECT_EQ(f.since, t0 - 1min);
  EXPECT_EQ(f.names, std::vector<std::string>{"prefect.flow-run.Cancelling"});
  ASSERT_EQ(f.any_resource.size(), 1u);
  EXPECT_EQ(f.any_resource[0].ids, std::vector<std::string>{"prefect.work-pool.p1"});
  EXPECT_TRUE(f.ids.empty());
}

TEST(EventFilterParse, RefusesUnknownKeysAndBadValues) {
  auto error = [](const json& j) {
    auto f = parse_event_filter(j, t0);
    return f ? std::string("(parsed)") : f.error().message();
  };
  EXPECT_EQ(error({{"colour", "red"}}), "filter.colour: Extra inputs are not permitted");
  EXPECT_EQ(error({{"event", {{"names", {"x"}}}}}), "filter.event.names: Extra inputs are not permitted");
  EXPECT_EQ(error({{"event", {{"name", "x"}}}}), "filter.event.name: Input should be a valid list of strings");
  EXPECT_EQ(error({{"occurred", {{"since", "soon"}}}}),
            "filter.occurred.since: Input should be a valid datetime, got 'soon'");
  EXPECT_EQ(error({{"order", "SIDEWAYS"}}), "filter.order: Input should be 'ASC' or 'DESC'");
  EXPECT_EQ(error({{"id", {{"id", {"nope"}}}}}), "filter.id.id: Input should be a valid UUID, got 'nope'");
  EXPECT_EQ(error({{"resource", {{"labels", {{"a", 1}}}}}}),
            "filter.resource.labels.a: Input should be a string or a list of strings");
  EXPECT_EQ(error({{"text", {{"query", "error"}}}}), "filter.text.query: text search is not supported by this server");
  EXPECT_EQ(error({{"resource", {{"distinct", true}}}}),
            "filter.resource.distinct: distinct resources are not supported by this server");
  EXPECT_EQ(error(json::array()), "filter: Input should be an object");
}

TEST(EventFilterJson, RoundTrips) {
  const auto f =
      filter({{"occurred", {{"since", "2026-03-01T00:00:00Z"}, {"until", "2026-03-02T00:00:00Z"}}},
              {"event", {{"prefix", {"prefect."}}, {"exclude_name", {"prefect.flow-run.Late"}}}},
              {"resource", {{"id_prefix", {"prefect.flow-run."}}, {"labels", {{"prefect.resource.name", "etl-*"}}}}},
              {"related", {{{"role", {"tag"}}, {"resources_in_roles", pairs({"prefect.flow.1", "flow"})}}}},
              {"any_resource", {{"labels", {{"prefect.resource.id", {"a*", "!b"}}}}}},
              {"id", {{"id", {"0194f0c6-3f49-7d3a-9a57-0b2d4c6f1e21"}}}},
              {"order", "ASC"}});
  const auto back = filter(to_json(f));
  EXPECT_EQ(to_json(back), to_json(f));
  EXPECT_EQ(back.order, event_order::ascending);
  ASSERT_TRUE(back.resource);
  EXPECT_EQ(back.resource->labels.at(0).second, std::vector<std::string>{"etl-*"});
}

TEST(Glob, NegationAndMissingLabels) {
  const std::string v = "etl-nightly";
  EXPECT_TRUE(label_matches({"etl-*"}, &v));
  EXPECT_TRUE(label_matches({"!adhoc-*"}, &v));
  EXPECT_FALSE(label_matches({"!etl-*"}, &v));
  EXPECT_TRUE(label_matches({"nope", "etl-nightly"}, &v));
  EXPECT_FALSE(label_matches({}, &v));
  EXPECT_FALSE(label_matches({"!anything"}, nullptr));
}

TEST(EventFilterMatch, OccurredBoundsAreInclusive) {
  event e = sample();
  auto f = filter({{"occurred", {{"since", format_iso8601(e.occurred)}, {"until", format_iso8601(e.occurred)}}}});
  EXPECT_TRUE(matches(f, e));
  e.occurred += 1us;
  EXPECT_FALSE(matches(f, e));
  e.occurred -= 2us;
  EXPECT_FALSE(matches(f, e));
}

TEST(EventFilterMatch, EventNames) {
  const event e = sample();  // prefect.task-run.Running
  EXPECT_TRUE(matches(filter({{"event", {{"prefix", {"prefect.flow-run.", "prefect.task-run."}}}}}), e));
  EXPECT_FALSE(matches(filter({{"event", {{"prefix", {"prefect.flow-run."}}}}}), e));
  EXPECT_FALSE(matches(filter({{"event", {{"exclude_prefix", {"prefect.task"}}}}}), e));
  EXPECT_TRUE(matches(filter({{"event", {{"name", {"prefect.task-run.Running"}}}}}), e));
  EXPECT_FALSE(matches(filter({{"event", {{"name", {"prefect.task-run"}}}}}), e));
  EXPECT_FALSE(matches(filter({{"event", {{"exclude_name", {"prefect.task-run.Running"}}}}}), e));
  EXPECT_TRUE(matches(filter({{"event", {{"name", json::array()}}}}), e));  // empty: no constraint
}

TEST(EventFilterMatch, PrimaryResource) {
  const event e = sample();
  EXPECT_TRUE(matches(filter({{"resource", {{"id", {"prefect.task-run.abc"}}}}}), e));
  EXPECT_FALSE(matches(filter({{"resource", {{"id", {"prefect.flow-run.f1"}}}}}), e));  // related, not primary
  EXPECT_TRUE(matches(filter({{"resource", {{"id_prefix", {"prefect.task-run."}}}}}), e));
  EXPECT_TRUE(matches(filter({{"resource", {{"labels", {{"prefect.resource.name", {"load-*"}}}}}}}), e));
  EXPECT_FALSE(matches(filter({{"resource", {{"labels", {{"prefect.resource.name", "!load-*"}}}}}}), e));
  EXPECT_FALSE(matches(filter({{"resource", {{"labels", {{"missing", "!x"}}}}}}), e));
  EXPECT_FALSE(matches(filter({{"resource", {{"labels", {{"prefect.resource.name", json::array()}}}}}}), e));
}

TEST(EventFilterMatch, RelatedResources) {
  const event e = sample();
  EXPECT_TRUE(matches(filter({{"related", {{"id", {"prefect.flow-run.f1"}}}}}), e));
  EXPECT_FALSE(matches(filter({{"related", {{"id", {"prefect.task-run.abc"}}}}}), e));  // primary: role ""
  EXPECT_TRUE(matches(filter({{"related", {{"role", {"tag"}}}}}), e));
  EXPECT_FALSE(matches(filter({{"related", {{"role", {"deployment"}}}}}), e));
  EXPECT_TRUE(matches(filter({{"related", {{"resources_in_roles", pairs({"prefect.tag.nightly", "tag"})}}}}), e));
  EXPECT_FALSE(matches(filter({{"related", {{"resources_in_roles", pairs({"prefect.tag.nightly", "flow-run"})}}}}), e));
  EXPECT_TRUE(matches(
      filter({{"related", {{"labels", {{"prefect.resource.id", "prefect.tag.*"}, {"prefect.resource.role", "tag"}}}}}}),
      e));
  // A list: every entry must match (possibly different resources).
  EXPECT_TRUE(matches(filter({{"related", {{{"role", {"tag"}}}, {{"role", {"flow-run"}}}}}}), e));
  EXPECT_FALSE(matches(filter({{"related", {{{"role", {"tag"}}}, {{"role", {"flow"}}}}}}), e));
}

TEST(EventFilterMatch, AnyResourceAndIds) {
  const event e = sample();
  EXPECT_TRUE(matches(filter({{"any_resource", {{"id", {"prefect.task-run.abc"}}}}}), e));
  EXPECT_TRUE(matches(filter({{"any_resource", {{"id", {"prefect.flow-run.f1"}}}}}), e));
  EXPECT_TRUE(matches(filter({{"any_resource", {{"id_prefix", {"prefect.tag."}}}}}), e));
  EXPECT_FALSE(matches(filter({{"any_resource", {{"id", {"prefect.work-pool.x"}}}}}), e));
  EXPECT_TRUE(matches(filter({{"any_resource", {{"labels", {{"prefect.resource.id", "*.nightly"}}}}}}), e));
  EXPECT_TRUE(matches(filter({{"id", {{"id", {e.id.to_string()}}}}}), e));
  EXPECT_FALSE(matches(filter({{"id", {{"id", {new_uuid4().to_string()}}}}}), e));
}

TEST(EventFilter, ClampLimitsOnlyTheLowerBound) {
  auto f = filter({{"occurred", {{"since", "2020-01-01T00:00:00Z"}}}});
  clamp_since(f, t0 - 15min);
  EXPECT_EQ(f.since, t0 - 15min);
  clamp_since(f, t0 - 1h);
  EXPECT_EQ(f.since, t0 - 15min);
}

namespace {

run_state state_at(state_type type, timestamp at, std::string name = {}) {
  run_state s;
  s.id = state_id{new_uuid7(at)};
  s.type = type;
  s.name = name.empty() ? default_state_name(type) : std::move(name);
  s.at = at;
  return s;
}

}  // namespace

TEST(FlowRunStateEvent, FollowsPrefectsShape) {
  const flow_run_id run{new_uuid4()};
  state_change change{run, state_at(state_type::pending, t0), state_at(state_type::running, t0 + 3s)};
  change.current.message = "off we go";
  flow_run_event_info info;
  info.name = "brave-otter";
  info.run_count = 1;
  info.flow = flow_id{new_uuid4()};
  info.flow_name = "etl";
  info.tags = {"b", "a", "b"};
  const event e = flow_run_state_event(change, info);

  EXPECT_EQ(e.id, change.current.id.value);
  EXPECT_EQ(e.occurred, t0 + 3s);
  EXPECT_EQ(e.name, "prefect.flow-run.Running");
  EXPECT_EQ(e.resource_id(), "prefect.flow-run." + run.to_string());
  EXPECT_EQ(e.resource.at("prefect.resource.name"), "brave-otter");
  EXPECT_EQ(e.resource.at("prefect.run-count"), "1");
  EXPECT_EQ(e.resource.at("prefect.state-message"), "off we go");
  EXPECT_EQ(e.resource.at("prefect.state-name"), "Running");
  EXPECT_EQ(e.resource.at("prefect.state-type"), "RUNNING");
  EXPECT_EQ(e.resource.at("prefect.state-timestamp"), format_iso8601(t0 + 3s));
  ASSERT_EQ(e.related.size(), 3u);
  EXPECT_EQ(e.related[0].at("prefect.resource.id"), "prefect.flow." + info.flow->to_string());
  EXPECT_EQ(e.related[0].at("prefect.resource.role"), "flow");
  EXPECT_EQ(e.related[0].at("prefect.resource.name"), "etl");
  EXPECT_EQ(e.related[1].at("prefect.resource.id"), "prefect.tag.a");
  EXPECT_EQ(e.related[2].at("prefect.resource.id"), "prefect.tag.b");
  EXPECT_EQ(e.payload,
            (json{{"intended", {{"from", "PENDING"}, {"to", "RUNNING"}}},
                  {"initial_state", {{"type", "PENDING"}, {"name", "Pending"}}},
                  {"validated_state", {{"type", "RUNNING"}, {"name", "Running"}, {"message", "off we go"}}}}));
  ASSERT_TRUE(e.follows);
  EXPECT_EQ(*e.follows, change.previous->id.value);
  EXPECT_TRUE(parse_event(to_json(e)));  // a valid event by the rules clients must follow
}

TEST(FlowRunStateEvent, FirstStateAndDistantPredecessor) {
  state_change first{flow_run_id{new_uuid4()}, std::nullopt, state_at(state_type::scheduled, t0)};
  const event e = flow_run_state_event(first);
  EXPECT_EQ(e.payload["intended"]["from"], nullptr);
  EXPECT_EQ(e.payload["initial_state"], nullptr);
  EXPECT_FALSE(e.follows);
  EXPECT_FALSE(e.resource.contains("prefect.resource.name"));  // unknown until the run info is filled in
  EXPECT_EQ(e.resource.at("prefect.state-message"), "");

  state_change late{first.run, first.current, state_at(state_type::pending, t0 + 5min)};
  EXPECT_FALSE(flow_run_state_event(late).follows);
}

TEST(FlowRunStateEvent, PausedStatesSayWhetherTheyReschedule) {
  state_change change{flow_run_id{new_uuid4()}, std::nullopt, state_at(state_type::paused, t0, "Suspended")};
  change.current.details = {{"pause_reschedule", true}};
  const event e = flow_run_state_event(change);
  EXPECT_EQ(e.name, "prefect.flow-run.Suspended");
  EXPECT_EQ(e.payload["validated_state"]["pause_reschedule"], "true");
}

TEST(FlowRunStateEvent, LongMessagesAreShortenedInTheMiddle) {
  state_change change{flow_run_id{new_uuid4()}, std::nullopt, state_at(state_type::failed, t0)};
  change.current.message = std::string(60'000, 'a') + std::string(60'000, 'z');
  const event e = flow_run_state_event(change);
  const std::string& m = e.resource.at("prefect.state-message");
  EXPECT_LT(m.size(), 100'100u);
  EXPECT_TRUE(m.starts_with("aaa"));
  EXPECT_TRUE(m.ends_with("zzz"));
  EXPECT_NE(m.find("...20000 additional characters..."), std::string::npos);
}

// The cut fell at a byte offset, inside a character: the event then failed to serialise (and to store).
// Like Prefect, lengths are characters, and cuts fall between them.
TEST(FlowRunStateEvent, MessagesAreMeasuredAndCutInCharacters) {
  std::string euros;
  for (int i = 0; i < 40'000; ++i) euros += "\u20ac";  // 120 000 bytes, 40 000 characters: under the limit
  state_change change{flow_run_id{new_uuid4()}, std::nullopt, state_at(state_type::failed, t0)};
  change.current.message = euros;
  EXPECT_TRUE(flow_run_state_event(change).resource.at("prefect.state-message") == euros);

  const std::string long_message = euros + euros + euros + "!";  // 120 001 characters
  change.current.message = long_message;
  const event e = flow_run_state_event(change);
  const std::string& m = e.resource.at("prefect.state-message");
  // The first and the last 50 000 characters (3 bytes each, but the final '!') around the note.
  EXPECT_TRUE(m == long_message.substr(0, 3 * 50'000) + "...20001 additional characters..." +
                       long_message.substr(3 * 70'001))
      << m.size() << " bytes";
  EXPECT_NO_THROW((void)to_json(e).dump());
}
