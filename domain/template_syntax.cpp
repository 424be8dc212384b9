#include "domain/template_syntax.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <vector>

namespace osprey {
namespace {

/// Block tags, the tags allowed between them and their end, and what Jinja says it was looking for, in its order.
struct block {
  std::string_view name;
  std::vector<std::string_view> middle;
  std::vector<std::string_view> expected;
};

const std::array<block, 9> blocks{{{"for", {"else"}, {"endfor", "else"}},
                                   {"if", {"elif", "else"}, {"elif", "else", "endif"}},
                                   {"macro", {}, {"endmacro"}},
                                   {"call", {}, {"endcall"}},
                                   {"filter", {}, {"endfilter"}},
                                   {"block", {}, {"endblock"}},
                                   {"with", {}, {"endwith"}},
                                   {"autoescape", {}, {"endautoescape"}},
                                   {"raw", {}, {"endraw"}}}};
const std::array<std::string_view, 8> plain_tags{"set",     "include", "import", "from",
                                                 "extends", "do",      "break",  "continue"};

const block* find_block(std::string_view name) {
  for (const auto& b : blocks)
    if (b.name == name) return &b;
  return nullptr;
}

int line_at(const std::string& s, std::size_t pos) {
  return 1 + static_cast<int>(
                 std::count(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(std::min(pos, s.size())), '\n'));
}

std::string_view first_word(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n-+");
  if (begin == std::string_view::npos) return {};
  auto end = begin;
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
  return text.substr(begin, end - begin);
}

/// "Jinja was looking for the following tags: … The innermost block that needs to be closed is '…'."
std::string looking_for(const block& innermost) {
  std::string list;
  for (std::size_t i = 0; i < innermost.expected.size(); ++i)
    list += (i == 0 ? "'" : "' or '") + std::string(innermost.expected[i]);
  return "Jinja was looking for the following tags: " + list + "'. The innermost block that needs to be closed is '" +
         std::string(innermost.name) + "'.";
}

}  // namespace

std::optional<template_syntax_error> check_template_syntax(const std::string& source) {
  std::vector<const block*> open;
  const int last_line = line_at(source, source.size());
  for (std::size_t pos = 0; (pos = source.find('{', pos)) != std::string::npos;) {
    if (pos + 1 >= source.size()) break;
    const char kind = source[pos + 1];
    if (kind != '{' && kind != '%' && kind != '#') {
      ++pos;
      continue;
    }
    const std::string closer = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    const auto end = source.find(closer, pos + 2);
    if (end == std::string::npos) {
      if (kind == '#') return template_syntax_error{line_at(source, pos), "Missing end of comment tag"};
      return template_syntax_error{last_line, std::string("unexpected end of template, expected 'end of ") +
                                                  (kind == '{' ? "print statement" : "statement block") + "'."};
    }
    if (kind == '%') {
      const auto tag = first_word(std::string_view(source).substr(pos + 2, end - pos - 2));
      const auto line = line_at(source, pos);
      if (tag.empty()) return template_syntax_error{line, "tag name expected"};
      if (const auto* b = find_block(tag)) {
        if (b->name == "raw") {
          // Everything up to {% endraw %} is text.
          const auto close = source.find("endraw", end);
          if (close == std::string::npos) return template_syntax_error{last_line, "Missing end of raw directive"};
          pos = source.find("%}", close);
          if (pos == std::string::npos) return template_syntax_error{last_line, "Missing end of raw directive"};
          continue;
        }
        open.push_back(b);
      } else if (tag.starts_with("end") && find_block(tag.substr(3))) {
        if (open.empty() || open.back()->name != tag.substr(3)) {
          std::string message = "Encountered unknown tag '" + std::string(tag) + "'.";
          if (!open.empty()) message += " " + looking_for(*open.back());
          return template_syntax_error{line, message};
        }
        open.pop_back();
      } else if (std::find(plain_tags.begin(), plain_tags.end(), tag) == plain_tags.end()) {
        const bool in_place = !open.empty() && std::find(open.back()->middle.begin(), open.back()->middle.end(), tag) !=
                                                   open.back()->middle.end();
        if (!in_place) {
          std::string message = "Encountered unknown tag '" + std::string(tag) + "'.";
          if (!open.empty()) message += " " + looking_for(*open.back());
          return template_syntax_error{line, message};
        }
      }
    }
    pos = end + 2;
  }
  if (!open.empty())
    return template_syntax_error{last_line, "Unexpected end of template. " + looking_for(*open.back())};
  return std::nullopt;
}

}  // namespace osprey
