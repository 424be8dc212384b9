// osprey-test-receiver: the test receivers as a process, for manual tries and the notification benchmark.
//
//   osprey-test-receiver [--status N] [--delay-ms N] [--smtp]
//
// Prints "http <port>" (and "smtp <port>") on stdout, then serves until SIGTERM/SIGINT, or until stdin
// reaches EOF when stdin is a terminal or a pipe (so `... < /dev/null &` keeps running). On exit it prints
// "requests <n> connections <n>" (and "mails <n>").

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "tests/support/http_receiver.hpp"
#include "tests/support/smtp_receiver.hpp"

namespace {

int usage() {
  std::cerr << "usage: osprey-test-receiver [--status N] [--delay-ms N] [--smtp]\n";
  return 2;
}

bool stdin_can_end() {
  struct stat st {};
  if (fstat(STDIN_FILENO, &st) != 0) return false;
  return isatty(STDIN_FILENO) != 0 || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
}

}  // namespace

int main(int argc, char** argv) {
  osprey::testing::scripted_response answer{200, {{"Content-Type", "text/plain"}}, "ok", std::chrono::milliseconds(0)};
  bool smtp = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--smtp") {
      smtp = true;
    } else if (arg == "--status" && i + 1 < argc) {
      answer.status = std::atoi(argv[++i]);
    } else if (arg == "--delay-ms" && i + 1 < argc) {
      answer.delay = std::chrono::milliseconds(std::atoi(argv[++i]));
    } else {
      return usage();
    }
  }
  if (answer.status < 100 || answer.status > 999) return usage();

  // Signals are taken by sigwait below; block them before the receivers start their threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  osprey::testing::http_receiver http;
  http.set_default(answer);
  std::optional<osprey::testing::smtp_receiver> mail;
  if (smtp) mail.emplace();
  std::cout << "http " << http.port() << "\n";
  if (mail) std::cout << "smtp " << mail->port() << "\n";
  std::cout.flush();

  if (stdin_can_end()) {
    std::thread([] {
      char buffer[4096];
      while (read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
      }
      kill(getpid(), SIGTERM);
    }).detach();
  }
  int sig = 0;
  sigwait(&signals, &sig);

  std::cout << "requests " << http.count() << " connections " << http.connections() << "\n";
  if (mail) std::cout << "mails " << mail->count() << "\n";
  std::cout.flush();
  return 0;
}
