#pragma once
// Shell-style globs, the one matcher for every glob Osprey evaluates in memory: event filter labels
// (domain/event: `prefect.resource.id` patterns such as "prefect.flow-run.*") and notification policies'
// flow and deployment names (domain/notification: "etl-*"). Pure.

#include <string_view>

namespace osprey {

/// Whether `text` matches `pattern`: `*` matches any run of characters (none included), `?` exactly one
/// (one byte); everything else is literal — no classes, no escapes, so "[ab]" and "100%_done" match only
/// themselves. Case-sensitive. Greedy with one backtrack point, so O(pattern × text) at worst, never
/// exponential however many stars a client sends.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace osprey
