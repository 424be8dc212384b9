#include "http/static_site.hpp"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <system_error>

namespace osprey::http {
namespace {

namespace fs = std::filesystem;

/// Files smaller than this go out as they are: gzip's header and the extra header line cost more than they save.
constexpr std::size_t min_gzip_bytes = 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string extension(std::string_view name) {
  const auto slash = name.rfind('/');
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return "";
  return lower(name.substr(dot + 1));
}

bool is_text_to_substitute(const std::string& ext) {
  return ext == "html" || ext == "css" || ext == "js" || ext == "json" || ext == "txt";
}

bool worth_compressing(const std::string& content_type) {
  return content_type.starts_with("text/") || content_type.starts_with("application/json") ||
         content_type.starts_with("application/manifest+json") || content_type.starts_with("image/svg+xml") ||
         content_type.starts_with("application/xml") || content_type == "font/ttf" ||
         content_type == "image/vnd.microsoft.icon" || content_type == "application/wasm";
}

/// gzip (RFC 1952) of `data` with zlib at its default level; "" when zlib fails (then the file goes out plain).
std::string gzip(const std::string& data) {
  z_stream z{};
  // windowBits 15 + 16 selects the gzip wrapper; memLevel 8 is zlib's default.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const auto written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return "";
  out.resize(written);
  return out;
}

/// FNV-1a, 64 bits: enough to tell two versions of one file apart for an ETag.
std::string etag_of(const std::string& body) {
  std::uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::ostringstream out;
  out << '"' << std::hex << body.size() << '-' << h << '"';
  return out.str();
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

std::string content_type_for(std::string_view name) {
  static const std::map<std::string, std::string, std::less<>> types = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"xml", "application/xml"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/vnd.microsoft.icon"},
      {"ttf", "font/ttf"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"wasm", "application/wasm"},
  };
  const auto it = types.find(extension(name));
  return it == types.end() ? "application/octet-stream" : it->second;
}

result<static_site> static_site::load(const fs::path& dir, const text_substitution& substitution) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "index.html", ec))
    return {errc::not_found, "no UI bundle at " + dir.string() + " (index.html missing)"};
  auto files = std::make_shared<std::map<std::string, static_file, std::less<>>>();
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto kind = it->symlink_status(ec);
    if (ec) break;
    if (!fs::is_regular_file(kind)) continue;  // folders are walked; links and devices are never served
    const auto relative = it->path().lexically_relative(dir).generic_string();
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in.good() && !in.eof()) return {errc::internal, "cannot read " + it->path().string()};
    static_file file;
    file.content_type = content_type_for(relative);
    file.body = std::move(content).str();
    if (is_text_to_substitute(extension(relative))) replace_all(file.body, substitution.from, substitution.to);
    if (file.body.size() >= min_gzip_bytes && worth_compressing(file.content_type)) {
      file.gzipped = gzip(file.body);
      if (file.gzipped.size() >= file.body.size()) file.gzipped.clear();
    }
    file.etag = etag_of(file.body);
    files->emplace(relative, std::move(file));
  }
  if (ec) return {errc::internal, "cannot read the UI bundle at " + dir.string() + ": " + ec.message()};
  static_site site;
  site.files_ = std::move(files);
  return site;
}

const static_file* static_site::find(std::string_view relative) const {
  const auto it = files_->find(relative);
  return it == files_->end() ? nullptr : &it->second;
}

bool static_site::is_folder_with_index(std::string_view relative) const {
  if (relative.empty()) return find("index.html") != nullptr;
  std::string index(relative);
  if (!index.ends_with('/')) index += '/';
  return find(index + "index.html") != nullptr;
}

bool accepts_gzip(std::string_view header) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const auto semicolon = item.find(';');
    std::string coding = lower(item.substr(0, semicolon));
    while (!coding.empty() && coding.back() == ' ') coding.pop_back();
    if (coding != "gzip" && coding != "*") continue;
    if (semicolon == std::string_view::npos) return true;
    std::string params = lower(item.substr(semicolon + 1));
    std::erase(params, ' ');
    // q=0, q=0.0, q=0.00 … refuse; any other weight accepts.
    if (!params.starts_with("q=0") || params.find_first_of("123456789", 3) != std::string::npos) return true;
  }
  return false;
}

response file_response(const static_file& file, const std::string& accept_encoding, const std::string& if_none_match,
                       const std::string& cache_control) {
  const bool gzipped = !file.gzipped.empty() && accepts_gzip(accept_encoding);
  // A strong ETag names one representation: the gzipped body gets its own.
  const std::string etag = gzipped ? file.etag.substr(0, file.etag.size() - 1) + "-gz\"" : file.etag;
  response r;
  r.content_type = file.content_type;
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", cache_control);
  if (!file.gzipped.empty()) r.headers.emplace_back("Vary", "Accept-Encoding");
  if (!if_none_match.empty() && (if_none_match == "*" || if_none_match.find(etag) != std::string::npos)) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.status = 200;
  if (gzipped) r.headers.emplace_back("Content-Encoding", "gzip");
  r.body = gzipped ? file.gzipped : file.body;
  return r;
}

}  // namespace osprey::http
