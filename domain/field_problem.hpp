#pragma once
// A refused input field as pydantic reports it. Domain checks return the field and the message separately so
// that error answers carry the field whole (keys may hold any character) instead of parsing it back out of
// one "field: message" text.

#include <string>

namespace osprey {

struct field_problem {
  std::string field;    ///< the key as given; "" when the input as a whole is refused
  std::string message;  ///< "Input should be a valid string"
  std::string type;     ///< pydantic's error type, "string_type"
};

}  // namespace osprey
