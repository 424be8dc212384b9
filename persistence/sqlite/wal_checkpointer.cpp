#include "persistence/sqlite/wal_checkpointer.hpp"

#include <string>

#include "logging/log.hpp"

namespace osprey::persistence {

wal_checkpointer::wal_checkpointer(std::unique_ptr<sql_connection> conn, std::chrono::milliseconds period)
    : conn_(std::move(conn)), period_(period), thread_([this] { loop(); }) {}

wal_checkpointer::~wal_checkpointer() { stop(); }

void wal_checkpointer::committed() {
  std::lock_guard lock(m_);
  dirty_ = true;
}

std::uint64_t wal_checkpointer::checkpoints() const {
  std::lock_guard lock(m_);
  return checkpoints_;
}

void wal_checkpointer::stop() {
  {
    std::lock_guard lock(m_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  checkpoint("TRUNCATE");
}

void wal_checkpointer::loop() {
  std::unique_lock lock(m_);
  while (!stopping_) {
    // The period paces checkpoints rather than synchronising anything: a checkpoint copies every frame
    // committed so far, so waiting lets it take many commits at once.
    cv_.wait_for(lock, period_, [this] { return stopping_; });
    if (stopping_ || !dirty_) continue;
    dirty_ = false;
    lock.unlock();
    checkpoint("PASSIVE");
    lock.lock();
  }
}

void wal_checkpointer::checkpoint(const char* mode) {
  try {
    conn_->query(std::string("PRAGMA wal_checkpoint(") + mode + ")");
    std::lock_guard lock(m_);
    ++checkpoints_;
    if (failing_) log::info("database", "WAL checkpoints work again");
    failing_ = false;
  } catch (const std::exception& e) {
    std::lock_guard lock(m_);
    // The WAL keeps every frame meanwhile, so nothing is lost; it only grows until a checkpoint succeeds.
    if (!failing_) log::line(log::level::warning, "database", "WAL checkpoint failed: ", e.what());
    failing_ = true;
  }
}

}  // namespace osprey::persistence
