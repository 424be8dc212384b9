#pragma once
// A syntax check of the Jinja templates automations and notifications use (POST /api/templates/validate), for
// the mistakes people make while typing one: an unclosed {{ }}, {% %} or {# #}, a block tag without its end
// tag, an end tag without its block. Messages follow Jinja's. It does not parse expressions: a template this
// accepts may still fail to render. Pure.

#include <optional>
#include <string>

namespace osprey {

struct template_syntax_error {
  int line = 1;         ///< 1-based, as Jinja counts
  std::string message;  ///< Jinja's wording
};

/// nullopt when `source` passes the check.
std::optional<template_syntax_error> check_template_syntax(const std::string& source);

}  // namespace osprey
