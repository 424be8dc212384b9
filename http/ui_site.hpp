#pragma once
// The Prefect UI, served as Prefect 3.9.1's server serves it (src/prefect/server/api/server.py, create_ui_app):
// two built bundles from the pinned `prefect` package, the Vue UI ("v1", at the base path) and the React UI
// ("v2", at <base>/v2), which neutral entry points default to. `scripts/prepare-ui.sh` copies them out of the
// package into <dir>/v1 and <dir>/v2; here they are read into memory once, with Prefect's base-path
// placeholder substituted, and answered from memory.
//
// What a request gets (paths the API routes do not match; /api/... stays a JSON 404):
//   GET <base>/ui-settings            {api_url, csrf_enabled, auth, flags, default_ui, available_uis, v1/v2_base_url}
//   a page load of <base>/            307 to <base>/v2/ unless the prefect_ui_version cookie or the default
//                                     picks v1 (Prefect's redirect_to_preferred_ui middleware)
//   a file of a bundle                the file (ETag, gzip, Cache-Control: immutable under assets/, else no-cache)
//   a folder without its slash        307 to the same path with "/"
//   any other path, when the browser  the bundle's index.html (no-cache): the single-page app routes it
//   asks for HTML
//   anything else                     404 {"detail": "Not Found"}; methods other than GET/HEAD 405 on a file
// Paths are normalised as Starlette does ("a/../b" is "b"); nothing outside a bundle's files is ever read.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "http/router.hpp"
#include "http/static_site.hpp"

namespace osprey::http {

struct ui_options {
  bool enabled = true;        ///< server.ui.enabled
  std::filesystem::path dir;  ///< holds v1/ and v2/ (scripts/prepare-ui.sh)
  /// server.ui.api_url: what /ui-settings tells the browser; "" = http://<the request's Host>/api, which is
  /// Prefect's http://<host>:<port>/api when the browser came straight to the server.
  std::string api_url;
  std::string base_path = "/";    ///< server.ui.base_path (Prefect's server.ui.serve_base)
  std::string default_ui = "v2";  ///< server.ui.default: v2 (Prefect 3.9.1's default) or v1
  std::string listen_address;     ///< host:port, for api_url when a request has no Host header
  bool csrf_enabled = false;      ///< server.csrf_protection: /ui-settings says so (the UI then fetches tokens)
  bool basic_auth = false;        ///< server.auth_string is set: /ui-settings says auth "BASIC" (the UI asks for it)
};

/// The loaded bundles and the paths they answer under. Immutable; share it.
class ui_site {
 public:
  /// Loads what `options` asks for. A bundle that is missing is left out, with a line in `notes` saying why;
  /// a disabled UI loads nothing. Blocking (reads and compresses the files): call it before serving.
  static std::shared_ptr<const ui_site> load(const ui_options& options, std::vector<std::string>& notes);

  /// "v1"/"v2" bundles that loaded, in that order.
  [[nodiscard]] std::vector<std::string> available() const;
  /// The configured default when it loaded, else the first that did.
  [[nodiscard]] std::string default_ui() const;
  [[nodiscard]] const std::string& v1_base() const { return v1_base_; }
  [[nodiscard]] const std::string& v2_base() const { return v2_base_; }

  /// Prefect's UISettings for this request.
  [[nodiscard]] std::string settings_json(const request& req) const;
  /// Answers a request no API route matched (see the file comment).
  void serve(const request& req, const responder& respond) const;

 private:
  const static_site* bundle(const std::string& version) const;

  ui_options options_;
  std::string v1_base_ = "/";
  std::string v2_base_ = "/v2";
  std::shared_ptr<const static_site> v1_;
  std::shared_ptr<const static_site> v2_;
};

/// GET <base>/ui-settings and the router's fallback (static files, the single-page fallback).
void register_ui_site(router& routes, std::shared_ptr<const ui_site> site);

}  // namespace osprey::http
