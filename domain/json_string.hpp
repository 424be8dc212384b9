#pragma once
// Writing JSON strings straight into text, for hot paths that serialise plain strings without building a
// nlohmann::json value first (the event store's labels). Defined in json_text.cpp.

#include <string>
#include <string_view>

namespace osprey {

/// Appends `text` as a JSON string, exactly as nlohmann's dump() writes it (UTF-8 kept, control characters
/// escaped). Text that is not valid UTF-8 throws nlohmann's type_error, as dump() does.
void append_json_string(std::string& out, std::string_view text);

}  // namespace osprey
