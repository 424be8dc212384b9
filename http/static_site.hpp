#pragma once
// A folder of static files (one built UI bundle) held in memory and answered as files: content type, ETag,
// cache headers, gzip. Loaded once at start-up, read-only afterwards, so handlers answer from memory on the
// io threads without blocking I/O. Thread-safety: immutable after load(); share it freely.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.hpp"
#include "http/message.hpp"

namespace osprey::http {

struct static_file {
  std::string content_type;
  std::string body;
  std::string gzipped;  ///< empty when the type is not worth compressing or compression saved nothing
  std::string etag;     ///< quoted, from the content: "\"<size>-<hash>\""
};

/// What load_static_site changes in the text files it reads: every occurrence of `from` becomes `to`, in
/// files ending .html, .css, .js, .json or .txt (the files Prefect's server rewrites when it prepares its
/// static folder).
struct text_substitution {
  std::string from;
  std::string to;
};

class static_site {
 public:
  /// Reads every regular file under `dir` (symbolic links and anything else are skipped, as Starlette's
  /// StaticFiles does with follow_symlink=False), applies `substitution` and gzips what compresses.
  /// Blocking file I/O and CPU work (about half a second for Prefect's two bundles): call it before serving.
  /// Fails (errc::not_found) when `dir` is not a folder holding index.html; errc::internal on a read error.
  static result<static_site> load(const std::filesystem::path& dir, const text_substitution& substitution);

  /// The file at `relative` ("index.html", "assets/x.js"; no leading slash, "/" separators), or null.
  /// Only names read by load() exist, so ".." and absolute paths find nothing.
  [[nodiscard]] const static_file* find(std::string_view relative) const;
  /// Whether `relative` names a folder that holds an index.html ("" is the root).
  [[nodiscard]] bool is_folder_with_index(std::string_view relative) const;

  [[nodiscard]] std::size_t size() const { return files_->size(); }

 private:
  std::shared_ptr<const std::map<std::string, static_file, std::less<>>> files_;
};

/// The response for `file`: 200 with its content (gzipped when `accept_encoding` allows gzip and a gzipped
/// form exists, with Content-Encoding; Vary: Accept-Encoding whenever a gzipped form exists), or 304 when
/// `if_none_match` names the ETag of the representation chosen. `cache_control` goes out as Cache-Control.
response file_response(const static_file& file, const std::string& accept_encoding, const std::string& if_none_match,
                       const std::string& cache_control);

/// Whether an Accept-Encoding header value accepts gzip (a "gzip" or "*" entry without q=0).
bool accepts_gzip(std::string_view accept_encoding);

/// The Content-Type for a file name, by extension ("application/octet-stream" when unknown).
std::string content_type_for(std::string_view name);

}  // namespace osprey::http
