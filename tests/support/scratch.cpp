#include "tests/support/scratch.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <regex>
#include <thread>

#include "persistence/migrator.hpp"

namespace osprey::testing {
namespace {

std::string random_suffix() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 12; ++i) s.push_back(digits[rng() % 16]);
  return s;
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

// Replaces the database name (the path after host:port) of a postgresql:// URL.
std::string with_database(const std::string& url, const std::string& name) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme + 3);
  auto query = url.find('?', scheme + 3);
  std::string base = slash == std::string::npos ? url.substr(0, query) : url.substr(0, slash);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + name + rest;
}

}  // namespace

scratch_dir::scratch_dir() {
  path_ = std::filesystem::temp_directory_path() / ("osprey-test-" + random_suffix());
  std::filesystem::create_directories(path_);
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::optional<std::string> postgres_admin_url() { return env("OSPREY_TEST_POSTGRES_URL"); }

bool postgres_required() { return env("OSPREY_REQUIRE_POSTGRES") == std::optional<std::string>("1"); }

scratch_database::scratch_database(persistence::dialect d) : dialect_(d) {
  if (d == persistence::dialect::sqlite) {
    url_ = "sqlite:///" + (dir_.path() / "osprey.db").string();
    return;
  }
  auto admin = postgres_admin_url();
  if (!admin) return;
  auto target = persistence::parse_database_url(*admin);
  if (!target) return;
  auto conn = persistence::open_connection(*target);
  if (!conn) {
    ADD_FAILURE() << conn.error().message();
    return;
  }
  pg_name_ = "osprey_test_" + random_suffix();
  (*conn)->execute_script("CREATE DATABASE " + pg_name_);
  url_ = with_database(*admin, pg_name_);
}

scratch_database::~scratch_database() {
  if (pg_name_.empty()) return;
  auto target = persistence::parse_database_url(*postgres_admin_url());
  if (!target) return;
  auto conn = persistence::open_connection(*target);
  if (!conn) return;
  try {
    (*conn)->execute_script("DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)");
  } catch (const persistence::sql_error&) {
    // Leaving a scratch database behind on a throwaway server is harmless.
  }
}

persistence::database_target scratch_database::target() const {
  auto t = persistence::parse_database_url(url_);
  EXPECT_TRUE(t.has_value());
  return *t;
}

std::unique_ptr<persistence::sql_connection> scratch_database::connect() const {
  auto conn = persistence::open_connection(target());
  EXPECT_TRUE(conn.has_value()) << (conn ? "" : conn.error().message());
  return conn ? std::move(*conn) : nullptr;
}

std::unique_ptr<persistence::sql_connection> scratch_database::connect_at_head() const {
  auto conn = connect();
  if (!conn) return conn;
  persistence::migrator m(*conn);
  auto plan = m.plan_upgrade("head");
  EXPECT_TRUE(plan);
  if (plan) {
    EXPECT_TRUE(m.apply(*plan));
  }
  return conn;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= end) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling interval, not synchronisation
  }
}

std::string osprey_binary() {
  if (auto b = env("OSPREY_BINARY")) return *b;
  return (std::filesystem::current_path() / "osprey").string();
}

namespace {

// fork/exec with stdout+stderr on a pipe; returns {pid, read end}.
std::pair<int, int> spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& extra_env) {
  int fds[2];
  if (pipe(fds) != 0) return {-1, -1};
  const int pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    close(fds[0]);
    close(fds[1]);
    for (const auto& [k, v] : extra_env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    std::string binary = osprey_binary();
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

}  // namespace

command_result run_osprey(const std::vector<std::string>& args, const std::map<std::string, std::string>& env_vars) {
  auto [pid, fd] = spawn(args, env_vars);
  command_result result;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) result.out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

daemon::daemon(std::map<std::string, std::string> env_vars, std::vector<std::string> extra_args, bool free_port) {
  std::vector<std::string> args = {"server", "start"};
  if (free_port) args.insert(args.end(), {"--port", "0"});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::tie(pid_, out_fd_) = spawn(args, env_vars);
  fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  static const std::regex listening(R"(listening on http://[^:\s]+:(\d+))");
  wait_until(
      [&] {
        pump(std::chrono::milliseconds(20));
        std::smatch m;
        if (std::regex_search(output_, m, listening)) port_ = std::stoi(m[1]);
        return port_ != 0 || exited_;
      },
      std::chrono::seconds(60));
}

daemon::~daemon() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
}

void daemon::pump(std::chrono::milliseconds wait) {
  pollfd p{out_fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(wait.count())) > 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(out_fd_, buf, sizeof buf)) > 0) output_.append(buf, static_cast<std::size_t>(n));
  }
  if (!exited_) {
    int wstatus = 0;
    if (waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    }
  }
}

std::string daemon::output() {
  pump(std::chrono::milliseconds(0));
  return output_;
}

void daemon::send_signal(int sig) {
  if (pid_ > 0 && !exited_) kill(pid_, sig);
}

void daemon::close_output() {
  if (out_fd_ >= 0) close(out_fd_);
  out_fd_ = -1;  // poll() ignores a negative descriptor, so pump() only reaps the process from now on
}

int daemon::wait_exit(std::chrono::milliseconds deadline) {
  wait_until(
      [&] {
        pump(std::chrono::milliseconds(20));
        return exited_;
      },
      deadline);
  pump(std::chrono::milliseconds(0));
  return exited_ ? exit_code_ : -1;
}

namespace {

std::size_t collect_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::size_t collect_header(char* data, std::size_t size, std::size_t n, void* out) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

}  // namespace

http_reply http_request(const std::string& method, const std::string& url, const std::string& body,
                        const std::vector<std::string>& headers) {
  http_reply reply;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);  // else curl waits for the announced body
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // send "/../" as written: tests of path traversal need it
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reply;
}

}  // namespace osprey::testing
