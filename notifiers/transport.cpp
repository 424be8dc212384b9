// The libcurl transport: one thread drives one multi handle.
//
// Threading: send() and stop() may be called from any thread. They touch only the queue (under `mu_`) and
// wake the thread with curl_multi_wakeup. Everything else (easy handles, exchanges, the multi handle and its
// connection cache) belongs to the transport thread. Callbacks run there, never under the lock.
//
// Lifetimes: every copy of a `transport` shares one `impl`. When the last copy goes, or stop() is called,
// the engine stops and its thread is joined. A stop() from a callback (on that thread) cannot join: it only
// asks, and a later stop() or the last copy's destruction joins. If that last copy dies on the thread
// itself, the thread is detached; it holds the engine (a shared_ptr) until it is done.
//
// curl_multi_wakeup is only called under `mu_` while `stopping_` is false. The thread reads `stopping_`
// under the same lock before it cleans up the multi handle, so no wakeup can reach a freed handle.

#include "notifiers/transport.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "domain/network_address.hpp"
#include "domain/version.hpp"

namespace osprey::notifiers {
namespace {

constexpr std::size_t max_body = 2048;
constexpr std::chrono::milliseconds max_connect_timeout{5000};
/// Requests to one host (scheme, host, port) in flight at once; more wait in the engine's own queue, so
/// keep-alive connections are reused instead of opening one per request (a burst of 1000 would otherwise
/// open 1000 sockets). The queue is ours, not libcurl's (CURLMOPT_MAX_HOST_CONNECTIONS): libcurl starts a
/// request's CURLOPT_TIMEOUT_MS when the handle is added, so requests parked there for a connection timed
/// out without ever being sent, and some the receiver had accepted were reported failed and sent again.
constexpr std::size_t max_host_connections = 16;
constexpr long connection_cache_size = 64;
constexpr std::size_t max_idle_handles = 64;
constexpr std::size_t max_header_count = 100;
constexpr const char* stopped_message = "transport stopped";

CURLcode global_init() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return rc;
}

reply failed(CURLcode code, std::string message) {
  reply r;
  r.transport_error = code;
  r.error = std::move(message);
  return r;
}

reply stopped_reply() { return failed(CURLE_ABORTED_BY_CALLBACK, stopped_message); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Every "scheme://..." in `text` keeps only its scheme and host[:port]: userinfo, path, query and fragment
// can carry webhook secrets.
std::string strip_urls(std::string text) {
  auto ends_token = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '"' || c == '\'' || c == '<' || c == '>';
  };
  std::size_t from = 0;
  while ((from = text.find("://", from)) != std::string::npos) {
    std::size_t authority = from + 3;
    std::size_t end = authority;
    while (end < text.size() && !ends_token(text[end])) ++end;
    std::size_t host_end = authority;
    while (host_end < end && text[host_end] != '/' && text[host_end] != '?' && text[host_end] != '#') ++host_end;
    std::string host = text.substr(authority, host_end - authority);
    if (auto at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);
    text.replace(authority, end - authority, host);
    from = authority + host.size();
  }
  return text;
}

const std::string& url_of(const request& req) {
  return std::visit([](const auto& r) -> const std::string& { return r.url; }, req);
}

// The parts of the request that may be secret: the URL's userinfo, path, query and fragment, and passwords.
std::vector<std::string> secrets_of(const request& req) {
  std::vector<std::string> secrets;
  const std::string& url = url_of(req);
  secrets.push_back(url);
  if (CURLU* u = curl_url()) {
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
      for (CURLUPart part : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_PATH, CURLUPART_QUERY, CURLUPART_FRAGMENT}) {
        for (unsigned flags : {0U, static_cast<unsigned>(CURLU_URLDECODE)}) {
          char* value = nullptr;
          if (curl_url_get(u, part, &value, flags) == CURLUE_OK && value != nullptr) {
            std::string v = value;
            if (part == CURLUPART_PATH && v.size() > 1 && v.front() == '/') v.erase(0, 1);
            secrets.push_back(std::move(v));
          }
          curl_free(value);
        }
      }
    }
    curl_url_cleanup(u);
  }
  if (const auto* http = std::get_if<http_request>(&req); http != nullptr && http->basic_auth) {
    secrets.push_back(http->basic_auth->second);
  }
  if (const auto* smtp = std::get_if<smtp_request>(&req)) secrets.push_back(smtp->password);
  return secrets;
}

// libcurl's message for `code` plus the detail it wrote to the error buffer, without secrets.
std::string describe(CURLcode code, const char* error_buffer, const request& req) {
  std::string text = curl_easy_strerror(code);
  std::string detail(trim(error_buffer));
  if (!detail.empty() && detail != text) text += ": " + detail;
  auto secrets = secrets_of(req);
  std::sort(secrets.begin(), secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& secret : secrets) {
    if (secret.size() < 3) continue;  // "/" or "a" would garble the message and hide nothing
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "[redacted]");
      at += std::strlen("[redacted]");
    }
  }
  return strip_urls(std::move(text));
}

/// "scheme://host:port" of `url`: what the per-host connection limit counts. An unparsable URL is its own
/// key (configuring it fails anyway).
std::string host_key(const std::string& url) {
  std::string key = url;
  if (CURLU* u = curl_url()) {
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
      char* scheme = nullptr;
      char* host = nullptr;
      char* port = nullptr;
      if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
          curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
          curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        key = std::string(scheme) + "://" + host + ":" + port;
      curl_free(scheme);
      curl_free(host);
      curl_free(port);
    }
    curl_url_cleanup(u);
  }
  return key;
}

std::string proxy_for(const std::string& url);

/// One request on its way: everything libcurl points into lives here until the easy handle is removed.
struct exchange {
  request req;
  std::string host;  ///< host_key of the URL: the connection slot it holds
  std::chrono::milliseconds timeout{0};
  reply_callback done;
  CURL* easy = nullptr;
  curl_slist* list = nullptr;  ///< HTTP headers or SMTP recipients
  std::string mail_from;       ///< "<addr>"
  std::size_t upload_offset = 0;
  reply rep;
  char error_buffer[CURL_ERROR_SIZE] = {};
  bool allow_private_network = false;
  std::string proxy;    ///< proxy_for(url); "" when direct
  std::string refused;  ///< why an address was refused, if one was

  exchange(request r, std::chrono::milliseconds t, reply_callback d)
      : req(std::move(r)), timeout(t), done(std::move(d)) {
    std::visit([this](const auto& q) { allow_private_network = q.allow_private_network; }, req);
    proxy = proxy_for(std::visit([](const auto& q) -> const std::string& { return q.url; }, req));
  }
  ~exchange() { curl_slist_free_all(list); }
  exchange(const exchange&) = delete;
  exchange& operator=(const exchange&) = delete;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<exchange*>(user);
  const std::size_t bytes = size * count;
  const std::size_t room = max_body - std::min(max_body, ex->rep.body.size());
  ex->rep.body.append(data, std::min(room, bytes));
  return bytes;  // the rest is read and dropped: returning less would abort the transfer
}

// HTTP: one header line; a status line starts a new response (after 100 Continue), so the headers kept
// are the last response's.
std::size_t on_http_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<exchange*>(user);
  const std::size_t bytes = size * count;
  std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    ex->rep.headers.clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bytes;
  std::string name = lower(trim(line.substr(0, colon)));
  std::string value(trim(line.substr(colon + 1)));
  auto found = ex->rep.headers.find(name);
  if (found != ex->rep.headers.end()) {
    found->second += ", " + value;
  } else if (ex->rep.headers.size() < max_header_count) {
    ex->rep.headers.emplace(std::move(name), std::move(value));
  }
  return bytes;
}

// SMTP: libcurl passes every server reply line here; the last one ("451 4.3.0 try later") becomes the body,
// except the 221 answering the QUIT libcurl sends after a refusal: the refusal is the informative line.
std::size_t on_smtp_line(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<exchange*>(user);
  const std::size_t bytes = size * count;
  std::string_view line = trim(std::string_view(data, bytes));
  if (!line.empty() && !line.starts_with("221")) ex->rep.body.assign(line.substr(0, max_body));
  return bytes;
}

std::size_t on_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<exchange*>(user);
  const std::string& message = std::get<smtp_request>(ex->req).message;
  const std::size_t n = std::min(size * count, message.size() - ex->upload_offset);
  std::memcpy(buffer, message.data() + ex->upload_offset, n);
  ex->upload_offset += n;
  return n;
}

/// Sets options in order and remembers the first failure.
class options {
 public:
  explicit options(CURL* easy) : easy_(easy) {}
  template <class T>
  options& set(CURLoption option, T value) {
    if (rc_ == CURLE_OK) rc_ = curl_easy_setopt(easy_, option, value);
    return *this;
  }
  [[nodiscard]] CURLcode rc() const { return rc_; }

 private:
  CURL* easy_;
  CURLcode rc_ = CURLE_OK;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

/// Whether no_proxy/NO_PROXY (or loopback, never proxied: receivers and relays on this machine must not be
/// sent elsewhere) exempts `host`. Entries are names or addresses, comma or space separated; an entry
/// matches itself and its subdomains (a leading dot is ignored); "*" matches every host.
bool proxy_exempt(std::string_view host) {
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const auto h = lower(host);
  if (h == "localhost" || h == "127.0.0.1" || h == "::1") return true;
  std::string list = env("no_proxy");
  if (list.empty()) list = env("NO_PROXY");
  for (std::size_t at = 0; at < list.size();) {
    const auto end = std::min(list.find_first_of(", ", at), list.size());
    auto entry = lower(std::string_view(list).substr(at, end - at));
    at = end + 1;
    if (entry == "*") return true;
    while (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
    if (entry.empty()) continue;
    if (h == entry || (h.size() > entry.size() && h.ends_with(entry) && h[h.size() - entry.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

/// The proxy `url` goes through, by the environment variables libcurl itself reads (http_proxy only in
/// lower case, <scheme>_proxy, all_proxy, no_proxy); "" for a direct connection. Chosen here rather than by
/// libcurl so the transport knows which connections are direct: only those are judged by address (a proxy
/// is the operator's own way out and resolves the name itself).
std::string proxy_for(const std::string& url) {
  std::string scheme;
  std::string host;
  if (CURLU* u = curl_url()) {
    char* s = nullptr;
    char* h = nullptr;
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
      scheme = lower(s);
      host = h;
    }
    curl_free(s);
    curl_free(h);
    curl_url_cleanup(u);
  }
  if (scheme.empty() || proxy_exempt(host)) return "";
  std::string proxy = env((scheme + "_proxy").c_str());
  if (proxy.empty() && scheme != "http") {  // HTTP_PROXY is ignored, as by libcurl (CGI header injection)
    std::string upper = scheme + "_PROXY";
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    proxy = env(upper.c_str());
  }
  if (proxy.empty()) proxy = env("all_proxy");
  if (proxy.empty()) proxy = env("ALL_PROXY");
  return proxy;
}

/// Why the transport will not talk to `address` for `ex` ("" when it may): a direct connection of a request
/// that does not allow private networks, to an address that is not public.
std::string refusal(const exchange& ex, const ip_address& address) {
  if (ex.allow_private_network || !ex.proxy.empty()) return "";
  const auto range = non_public_range(address);
  if (!range) return "";
  return "refused to connect to " + address.text() + ", a " + std::string(*range) +
         " address: the channel does not set allow_private_network";
}

/// CURLOPT_OPENSOCKETFUNCTION: judges every address before connecting to it, so a name that resolves (or is
/// rebound) to an inside address never gets a connection. Refusing one address lets libcurl try the next.
curl_socket_t open_socket(void* user, curlsocktype, curl_sockaddr* address) {
  auto& ex = *static_cast<exchange*>(user);
  const auto ip = ip_address::of(address->addr);
  if (!ip && !ex.allow_private_network && ex.proxy.empty()) {
    ex.refused = "refused to connect to a non-IP address";
    return CURL_SOCKET_BAD;
  }
  if (ip) {
    if (auto why = refusal(ex, *ip); !why.empty()) {
      ex.refused = std::move(why);
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/// CURLOPT_PREREQFUNCTION: runs before every request, on new and reused connections alike, so a keep-alive
/// connection opened for a channel that allows private networks is never used by one that does not.
int before_request(void* user, char* primary_ip, char*, int, int) {
  auto& ex = *static_cast<exchange*>(user);
  const auto ip = ip_address::parse(primary_ip ? primary_ip : "");
  if (!ip) return CURL_PREREQFUNC_OK;  // a connection libcurl made through open_socket: judged there
  if (auto why = refusal(ex, *ip); !why.empty()) {
    ex.refused = std::move(why);
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

CURLcode configure_common(exchange& ex, const std::string& url, const char* protocols) {
  const auto total = std::max(ex.timeout, std::chrono::milliseconds(1));  // 0 would mean "no limit"
  const auto connect = std::min(total, max_connect_timeout);
  return options(ex.easy)
      .set(CURLOPT_URL, url.c_str())
      .set(CURLOPT_PROTOCOLS_STR, protocols)
      .set(CURLOPT_PROXY, ex.proxy.c_str())  // "" = direct, whatever the environment says
      .set(CURLOPT_OPENSOCKETFUNCTION, &open_socket)
      .set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(&ex))
      .set(CURLOPT_PREREQFUNCTION, &before_request)
      .set(CURLOPT_PREREQDATA, static_cast<void*>(&ex))
      .set(CURLOPT_NOSIGNAL, 1L)
      .set(CURLOPT_FOLLOWLOCATION, 0L)
      .set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect.count()))
      .set(CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()))
      .set(CURLOPT_SSL_VERIFYPEER, 1L)
      .set(CURLOPT_SSL_VERIFYHOST, 2L)
      .set(CURLOPT_TCP_KEEPALIVE, 1L)
      .set(CURLOPT_ERRORBUFFER, ex.error_buffer)
      .set(CURLOPT_PRIVATE, static_cast<void*>(&ex))
      .rc();
}

CURLcode configure_http(exchange& ex, const http_request& r) {
  static const std::string agent = std::string("osprey/") + osprey_version;
  options o(ex.easy);
  o.set(CURLOPT_USERAGENT, agent.c_str())
      .set(CURLOPT_WRITEFUNCTION, &on_body)
      .set(CURLOPT_WRITEDATA, static_cast<void*>(&ex))
      .set(CURLOPT_HEADERFUNCTION, &on_http_header)
      .set(CURLOPT_HEADERDATA, static_cast<void*>(&ex));
  if (r.method == "GET") {
    o.set(CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    o.set(CURLOPT_NOBODY, 1L);
  } else {
    o.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size())).set(CURLOPT_POSTFIELDS, r.body.data());
    if (r.method != "POST") o.set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  bool has_expect = false;
  for (const auto& [name, value] : r.headers) {
    has_expect = has_expect || lower(name) == "expect";
    // "Name;" is libcurl's spelling of a header with an empty value ("Name:" would remove it).
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* next = curl_slist_append(ex.list, line.c_str());
    if (next == nullptr) return CURLE_OUT_OF_MEMORY;
    ex.list = next;
  }
  if (!has_expect) {  // no "Expect: 100-continue" round trip before large bodies
    curl_slist* next = curl_slist_append(ex.list, "Expect:");
    if (next == nullptr) return CURLE_OUT_OF_MEMORY;
    ex.list = next;
  }
  o.set(CURLOPT_HTTPHEADER, ex.list);
  if (r.basic_auth) {
    o.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC))
        .set(CURLOPT_USERNAME, r.basic_auth->first.c_str())
        .set(CURLOPT_PASSWORD, r.basic_auth->second.c_str());
  }
  return o.rc();
}

CURLcode configure_smtp(exchange& ex, const smtp_request& r) {
  ex.mail_from = "<" + r.mail_from + ">";
  for (const auto& rcpt : r.recipients) {
    curl_slist* next = curl_slist_append(ex.list, ("<" + rcpt + ">").c_str());
    if (next == nullptr) return CURLE_OUT_OF_MEMORY;
    ex.list = next;
  }
  options o(ex.easy);
  o.set(CURLOPT_HEADERFUNCTION, &on_smtp_line)
      .set(CURLOPT_HEADERDATA, static_cast<void*>(&ex))
      .set(CURLOPT_USE_SSL, static_cast<long>(r.tls == config::smtp_tls::none ? CURLUSESSL_NONE : CURLUSESSL_ALL))
      .set(CURLOPT_MAIL_FROM, ex.mail_from.c_str())
      .set(CURLOPT_MAIL_RCPT, ex.list)
      .set(CURLOPT_UPLOAD, 1L)
      .set(CURLOPT_READFUNCTION, &on_upload)
      .set(CURLOPT_READDATA, static_cast<void*>(&ex))
      .set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.message.size()));
  // With several recipients one refusal must not stop the mail to the others (the name's typo is libcurl's
  // before 8.2.0).
  if (r.recipients.size() > 1) o.set(CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
  if (!r.ca_file.empty()) o.set(CURLOPT_CAINFO, r.ca_file.c_str());
  if (!r.username.empty()) {
    o.set(CURLOPT_USERNAME, r.username.c_str()).set(CURLOPT_PASSWORD, r.password.c_str());
  }
  return o.rc();
}

CURLcode configure(exchange& ex) {
  if (const auto* http = std::get_if<http_request>(&ex.req)) {
    CURLcode rc = configure_common(ex, http->url, "http,https");
    return rc != CURLE_OK ? rc : configure_http(ex, *http);
  }
  const auto& smtp = std::get<smtp_request>(ex.req);
  CURLcode rc = configure_common(ex, smtp.url, "smtp,smtps");
  return rc != CURLE_OK ? rc : configure_smtp(ex, smtp);
}

struct pending {
  request req;
  std::chrono::milliseconds timeout{0};
  reply_callback done;
};

/// The thread, its multi handle and the queue between send() and the thread.
class engine {
 public:
  engine() = default;
  ~engine() {
    // Only reached after stop(): the thread has cleaned up the multi handle, or never started.
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
  }
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  static result<std::shared_ptr<engine>> create() {
    if (CURLcode rc = global_init(); rc != CURLE_OK) {
      return status(errc::internal, std::string("curl_global_init: ") + curl_easy_strerror(rc));
    }
    auto e = std::make_shared<engine>();
    e->multi_ = curl_multi_init();
    if (e->multi_ == nullptr) return status(errc::internal, "curl_multi_init failed");
    curl_multi_setopt(e->multi_, CURLMOPT_MAXCONNECTS, connection_cache_size);
    e->thread_ = std::thread([e] { e->run(); });
    e->thread_id_ = e->thread_.get_id();  // read by the thread only after a send(), ordered by mu_
    return e;
  }

  void send(pending p) {
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        const bool was_empty = queue_.empty();
        queue_.push_back(std::move(p));
        count_.fetch_add(1);
        // A non-empty queue means a wakeup is already pending: the thread empties it in one go.
        if (was_empty) curl_multi_wakeup(multi_);
        return;
      }
    }
    count_.fetch_add(1);
    deliver(p.done, stopped_reply());
  }

  /// Stops the thread and, unless called on it, joins it. On the thread (from a callback) it only asks:
  /// the thread finishes once the callback returns, and a later stop() or release() joins it.
  void stop() {
    request_stop();
    if (std::this_thread::get_id() == thread_id_) return;
    std::lock_guard join(join_mu_);
    if (thread_.joinable()) thread_.join();
  }

  /// The last transport copy is gone. On the transport thread (a callback held that copy) nobody else can
  /// call stop() any more, so the thread is detached; it holds the engine until it is done.
  void release() {
    if (std::this_thread::get_id() != thread_id_) return stop();
    request_stop();
    std::lock_guard join(join_mu_);
    if (thread_.joinable()) thread_.detach();
  }

  [[nodiscard]] std::size_t in_flight() const { return count_.load(); }

 private:
  void request_stop() {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      curl_multi_wakeup(multi_);
    }
  }

  void run() {
    std::vector<pending> incoming;
    while (true) {
      bool stop_now = false;
      {
        std::lock_guard lock(mu_);
        incoming.swap(queue_);
        stop_now = stopping_;
      }
      if (stop_now) break;
      for (auto& p : incoming) begin(std::move(p));
      incoming.clear();
      int running = 0;
      curl_multi_perform(multi_, &running);
      collect();
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);  // libcurl shortens the wait for its own timers
    }
    abandon(incoming);
  }

  /// Starts `p` when its host has a free connection slot, else queues it behind the host's others.
  void begin(pending p) {
    std::string key = host_key(url_of(p.req));
    auto& host = hosts_[key];
    if (host.active >= max_host_connections) {
      host.waiting.push_back(std::move(p));
      return;
    }
    if (start(std::move(p), key))
      ++host.active;
    else if (host.active == 0 && host.waiting.empty())
      hosts_.erase(key);
  }

  /// A request to `key` ended: its slot goes to the next one waiting for that host.
  void release(const std::string& key) {
    auto found = hosts_.find(key);
    if (found == hosts_.end()) return;  // cannot happen: a started request holds a slot of its host
    auto& host = found->second;
    --host.active;
    while (host.active < max_host_connections && !host.waiting.empty()) {
      pending next = std::move(host.waiting.front());
      host.waiting.pop_front();
      if (start(std::move(next), key)) ++host.active;
    }
    if (host.active == 0 && host.waiting.empty()) hosts_.erase(found);
  }

  /// Hands `p` to libcurl: its timeouts start now. False (and `done` answered) when it could not start.
  bool start(pending p, const std::string& key) {
    CURL* easy = nullptr;
    if (!idle_.empty()) {
      easy = idle_.back();
      idle_.pop_back();
    } else {
      easy = curl_easy_init();
    }
    if (easy == nullptr) {
      deliver(p.done, failed(CURLE_FAILED_INIT, "curl_easy_init failed"));
      return false;
    }
    auto ex = std::make_unique<exchange>(std::move(p.req), p.timeout, std::move(p.done));
    ex->easy = easy;
    ex->host = key;
    if (CURLcode rc = configure(*ex); rc != CURLE_OK) {
      recycle(easy);
      deliver(ex->done, failed(rc, describe(rc, "", ex->req)));
      return false;
    }
    if (CURLMcode mc = curl_multi_add_handle(multi_, easy); mc != CURLM_OK) {
      recycle(easy);
      deliver(ex->done, failed(CURLE_FAILED_INIT, std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc)));
      return false;
    }
    active_.emplace(easy, std::move(ex));
    return true;
  }

  void collect() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      const CURLcode code = msg->data.result;  // read before removing: that invalidates `msg`
      auto found = active_.find(easy);
      if (found == active_.end()) continue;  // cannot happen: every added handle is in active_
      std::unique_ptr<exchange> ex = std::move(found->second);
      active_.erase(found);
      curl_multi_remove_handle(multi_, easy);
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      ex->rep.status = static_cast<int>(status);
      if ((code == CURLE_COULDNT_CONNECT || code == CURLE_ABORTED_BY_CALLBACK) && !ex->refused.empty()) {
        ex->rep.transport_error = CURLE_COULDNT_CONNECT;
        ex->rep.address_refused = true;
        ex->rep.error = ex->refused;
      } else if (code != CURLE_OK) {
        ex->rep.transport_error = code;
        ex->rep.error = describe(code, ex->error_buffer, ex->req);
      }
      recycle(easy);
      release(ex->host);
      deliver(ex->done, std::move(ex->rep));
    }
  }

  void recycle(CURL* easy) {
    if (idle_.size() < max_idle_handles) {
      curl_easy_reset(easy);
      idle_.push_back(easy);
    } else {
      curl_easy_cleanup(easy);
    }
  }

  // At stop: every request still queued or in flight gets "transport stopped"; then the handles go.
  void abandon(std::vector<pending>& incoming) {
    auto active = std::move(active_);
    active_.clear();
    for (auto& [easy, ex] : active) {
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
      ex->easy = nullptr;
    }
    for (auto& [easy, ex] : active) deliver(ex->done, stopped_reply());
    active.clear();
    for (auto& p : incoming) deliver(p.done, stopped_reply());
    incoming.clear();
    auto hosts = std::move(hosts_);
    hosts_.clear();
    for (auto& [key, host] : hosts)
      for (auto& p : host.waiting) deliver(p.done, stopped_reply());
    for (CURL* easy : idle_) curl_easy_cleanup(easy);
    idle_.clear();
    curl_multi_cleanup(multi_);
    multi_ = nullptr;
  }

  void deliver(reply_callback& done, reply r) {
    count_.fetch_sub(1);
    if (!done) return;
    try {
      done(std::move(r));
    } catch (...) {
      // A throwing callback is its owner's bug; the transport thread must survive it for everyone else.
    }
  }

  std::mutex mu_;
  std::vector<pending> queue_;  ///< guarded by mu_
  bool stopping_ = false;       ///< guarded by mu_
  std::mutex join_mu_;          ///< concurrent stop() calls all return after the join
  std::thread thread_;
  std::thread::id thread_id_;  ///< set once at start
  std::atomic<std::size_t> count_{0};
  CURLM* multi_ = nullptr;
  // Transport thread only:
  std::unordered_map<CURL*, std::unique_ptr<exchange>> active_;
  std::vector<CURL*> idle_;
  /// Per host_key: requests handed to libcurl, and those waiting for one of them to end (oldest first).
  struct host_slots {
    std::size_t active = 0;
    std::deque<pending> waiting;
  };
  std::unordered_map<std::string, host_slots> hosts_;
};

}  // namespace

struct transport::impl {
  std::shared_ptr<engine> eng;
  explicit impl(std::shared_ptr<engine> e) : eng(std::move(e)) {}
  ~impl() { eng->release(); }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
};

result<transport> transport::start() {
  auto e = engine::create();
  if (!e) return e.error();
  transport t;
  t.impl_ = std::make_shared<impl>(std::move(*e));
  return t;
}

void transport::send(request r, std::chrono::milliseconds timeout, reply_callback done) const {
  if (!impl_) {
    if (done) done(failed(CURLE_FAILED_INIT, "transport not started"));
    return;
  }
  impl_->eng->send(pending{std::move(r), timeout, std::move(done)});
}

std::size_t transport::in_flight() const { return impl_ ? impl_->eng->in_flight() : 0; }

void transport::stop() const {
  if (impl_) impl_->eng->stop();
}

reply send_blocking(const request& r, std::chrono::milliseconds timeout) {
  auto t = transport::start();
  if (!t) return failed(CURLE_FAILED_INIT, t.error().message());
  std::promise<reply> promise;
  auto answer = promise.get_future();
  t->send(r, timeout, [&promise](reply rep) { promise.set_value(std::move(rep)); });
  reply rep = answer.get();  // the callback runs exactly once, by the timeout at the latest
  t->stop();
  return rep;
}

}  // namespace osprey::notifiers
