// Group-commit benchmark: durable writes per second through persistence::database with N concurrent
// closed-loop writers (each waits for its COMMIT before sending the next write), on SQLite and PostgreSQL.
//
//   build/bench/group_commit_bench [--seconds S] [--writers 1,64] [--sqlite PATH] [--postgres URL]
//
// Each write inserts one flow row. The database must be empty or disposable: the schema is upgraded to head.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "persistence/database.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/migrator.hpp"

using namespace osprey;
using namespace std::chrono;

namespace {

struct figures {
  double writes_per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  std::uint64_t transactions = 0, writes = 0;
};

figures run(const persistence::database_target& target, unsigned writers, double seconds, const std::string& tag) {
  persistence::database_options options;
  options.target = target;
  auto db = persistence::database::start(options);
  if (!db) {
    std::fprintf(stderr, "cannot start: %s\n", db.error().message().c_str());
    std::exit(1);
  }
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(writers);
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::mutex m;
      std::condition_variable cv;
      for (std::uint64_t i = 0; !stop; ++i) {
        flow f;
        f.id = flow_id{new_uuid4()};
        f.created = f.updated = osprey::system_clock::instance().now();
        f.name = tag + "-" + std::to_string(w) + "-" + std::to_string(i);
        bool done = false;
        const auto t0 = steady_clock::now();
        db->write([f](persistence::sql_connection& c) { persistence::upsert_flow(c, f); },
                  [&](const status& s) {
                    if (!s) std::fprintf(stderr, "write failed: %s\n", s.message().c_str());
                    std::lock_guard lock(m);
                    done = true;
                    cv.notify_one();
                  });
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return done; });
        latencies[w].push_back(duration<double, std::milli>(steady_clock::now() - t0).count());
      }
    });
  }
  const auto start = steady_clock::now();
  std::this_thread::sleep_for(duration<double>(seconds));  // the measurement window, not synchronisation
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = duration<double>(steady_clock::now() - start).count();
  db->drain_and_stop();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  figures out;
  auto stats = db->stats();
  out.writes = stats.writes;
  out.transactions = stats.transactions;
  out.writes_per_second = static_cast<double>(all.size()) / elapsed;
  if (!all.empty()) {
    out.p50_ms = all[all.size() / 2];
    out.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return out;
}

void prepare(const persistence::database_target& target) {
  auto conn = persistence::open_connection(target);
  if (!conn) {
    std::fprintf(stderr, "cannot connect: %s\n", conn.error().message().c_str());
    std::exit(1);
  }
  persistence::migrator m(**conn);
  auto s = m.reset();
  if (!s) {
    std::fprintf(stderr, "cannot reset the schema: %s\n", s.message().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::vector<unsigned> writer_counts = {1, 64};
  std::string sqlite_path = (std::filesystem::temp_directory_path() / "osprey-bench-group-commit.db").string();
  std::string postgres_url;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--seconds")
      seconds = std::stod(value);
    else if (flag == "--sqlite")
      sqlite_path = value;
    else if (flag == "--postgres")
      postgres_url = value;
    else if (flag == "--writers") {
      writer_counts.clear();
      std::stringstream ss(value);
      for (std::string part; std::getline(ss, part, ',');)
        writer_counts.push_back(static_cast<unsigned>(std::stoul(part)));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::vector<std::pair<std::string, std::string>> targets = {
      {"sqlite (synchronous=FULL)", "sqlite:///" + sqlite_path}};
  if (!postgres_url.empty()) targets.emplace_back("postgresql", postgres_url);
  std::printf("%-28s %8s %12s %10s %10s %14s\n", "database", "writers", "writes/s", "p50 ms", "p99 ms",
              "writes/commit");
  for (const auto& [label, url] : targets) {
    auto target = persistence::parse_database_url(url);
    if (!target) {
      std::fprintf(stderr, "%s\n", target.error().message().c_str());
      return 2;
    }
    for (unsigned writers : writer_counts) {
      prepare(*target);
      auto f = run(*target, writers, seconds, "bench" + std::to_string(writers));
      std::printf("%-28s %8u %12.0f %10.3f %10.3f %14.1f\n", label.c_str(), writers, f.writes_per_second, f.p50_ms,
                  f.p99_ms, f.transactions ? static_cast<double>(f.writes) / static_cast<double>(f.transactions) : 0.0);
      std::fflush(stdout);
    }
  }
  if (sqlite_path.rfind("/tmp/", 0) == 0)
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(sqlite_path + suffix);
  return 0;
}
