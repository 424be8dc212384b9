// Component schemas of block types, schemas and documents (http/block_fields.cpp), with Prefect 3.9.1's field
// names and types.

#include "http/openapi/schema.hpp"

namespace osprey::http::openapi {

void add_block_schemas(json& s) {
  const json stamp =
      object_of({{"id", uuid()}, {"created", nullable(date_time())}, {"updated", nullable(date_time())}}, {"id"});
  s["BlockType"] = extended(stamp,
                            {{"name", text()},
                             {"slug", text()},
                             {"logo_url", nullable(text())},
                             {"documentation_url", nullable(text())},
                             {"description", nullable(text())},
                             {"code_example", nullable(text())},
                             {"is_protected", boolean()}},
                            {"name", "slug", "is_protected"});
  s["BlockSchema"] = extended(stamp,
                              {{"checksum", text()},
                               {"fields", any_object()},
                               {"block_type_id", nullable(uuid())},
                               {"block_type", nullable(ref_to("BlockType"))},
                               {"capabilities", array_of(text())},
                               {"version", text()}},
                              {"checksum", "fields", "block_type_id", "capabilities"});
  s["BlockDocument"] = extended(stamp,
                                {{"name", nullable(text())},
                                 {"data", any_object()},
                                 {"block_schema_id", uuid()},
                                 {"block_schema", nullable(ref_to("BlockSchema"))},
                                 {"block_type_id", uuid()},
                                 {"block_type_name", nullable(text())},
                                 {"block_type", nullable(ref_to("BlockType"))},
                                 {"block_document_references", map_of(any_object())},
                                 {"is_anonymous", boolean()}},
                                {"data", "block_schema_id", "block_type_id", "is_anonymous"});
}

}  // namespace osprey::http::openapi
