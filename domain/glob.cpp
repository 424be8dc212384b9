#include "domain/glob.hpp"

namespace osprey {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Only the last `*` is a backtrack point: a later `*` supersedes earlier ones (whatever an earlier star
  // would have absorbed, the later one can absorb too), so the scan never revisits more than one choice.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace osprey
