// The background task queue: a run goes to an idle worker of its key, one at a time per worker until it
// acknowledges, retries before scheduled runs, and a run handed to a worker that leaves unacknowledged is handed
// out again.
#include <gtest/gtest.h>

#include <vector>

#include "actors/background_task_queue.hpp"

using namespace osprey;
using osprey::actors::background_task_queue;

namespace {

struct worker {
  std::vector<uuid> got;
  std::uint64_t token = 0;
  background_task_queue::deliver_fn deliver() {
    return [this](std::uint64_t, const uuid& run, const std::string&) { got.push_back(run); };
  }
};

TEST(BackgroundTaskQueue, RunsWaitForAWorkerOfTheirKeyAndComeOneAtATime) {
  background_task_queue q;
  const auto a = new_uuid4(), b = new_uuid4(), other = new_uuid4();
  q.enqueue(a, "add");
  q.enqueue(b, "add");
  q.enqueue(other, "mul");
  EXPECT_EQ(q.waiting(), 3u);
  worker w;
  w.token = q.subscribe({"add"}, "w1", w.deliver());
  EXPECT_EQ(w.got, std::vector<uuid>{a});  // the next one only after the ack
  q.ack(w.token);
  EXPECT_EQ(w.got, (std::vector<uuid>{a, b}));
  q.ack(w.token);
  EXPECT_EQ(q.waiting(), 1u);  // "mul" waits for a worker of its own
  const auto c = new_uuid4();
  q.enqueue(c, "add");  // an idle worker gets it at once
  EXPECT_EQ(w.got.back(), c);
}

TEST(BackgroundTaskQueue, ARunHandedToAWorkerThatLeftGoesToTheNextWorkerBeforeScheduledOnes) {
  background_task_queue q;
  const auto first = new_uuid4(), second = new_uuid4();
  worker leaving;
  leaving.token = q.subscribe({"add"}, "w1", leaving.deliver());
  q.enqueue(first, "add");
  q.enqueue(second, "add");
  ASSERT_EQ(leaving.got, std::vector<uuid>{first});
  q.unsubscribe(leaving.token);  // never acknowledged
  worker next;
  next.token = q.subscribe({"add"}, "w2", next.deliver());
  EXPECT_EQ(next.got, std::vector<uuid>{first});  // the retry queue is served first
  q.ack(next.token);
  EXPECT_EQ(next.got, (std::vector<uuid>{first, second}));
  const auto retried = new_uuid4();
  q.ack(next.token);
  q.unsubscribe(next.token);
  q.enqueue(new_uuid4(), "add");
  q.enqueue(retried, "add", true);  // AwaitingRetry: ahead of what is scheduled
  worker last;
  last.token = q.subscribe({"add"}, "w3", last.deliver());
  EXPECT_EQ(last.got, std::vector<uuid>{retried});
}

TEST(BackgroundTaskQueue, WorkersAreListedByTheirKeysWhileSubscribed) {
  background_task_queue q;
  worker w1, w2;
  w1.token = q.subscribe({"add", "mul"}, "w1", w1.deliver());
  w2.token = q.subscribe({"div"}, "w2", w2.deliver());
  EXPECT_EQ(q.workers().size(), 2u);
  const auto mul = q.workers({"mul"});
  ASSERT_EQ(mul.size(), 1u);
  EXPECT_EQ(mul[0].client_id, "w1");
  EXPECT_EQ(mul[0].task_keys, (std::vector<std::string>{"add", "mul"}));
  q.unsubscribe(w1.token);
  EXPECT_TRUE(q.workers({"mul"}).empty());
}

}  // namespace
