#pragma once
// The events the server emits when the API creates, changes or deletes an object, as Prefect 3.9.1's
// server/events/schemas/lifecycle.py: `prefect.<kind>.<created|updated|deleted>` with the object as the
// resource (`prefect.<kind>.<id>`, named) and a payload of its user-facing fields. Automations and the
// events page use them. Pure builders; the HTTP layer publishes them once the change is committed.

#include <string_view>

#include <vector>

#include "domain/artifact.hpp"
#include "domain/block.hpp"
#include "domain/concurrency.hpp"
#include "domain/event.hpp"
#include "domain/flow.hpp"
#include "domain/variable.hpp"

namespace osprey {

enum class lifecycle_action { created, updated, deleted };

[[nodiscard]] std::string_view lifecycle_action_name(lifecycle_action a) noexcept;

/// prefect.variable.<action>: payload {name, value, tags}.
[[nodiscard]] event variable_lifecycle_event(lifecycle_action a, const variable& v, timestamp occurred);

/// prefect.concurrency-limit.<action> for a global (v2) limit: payload {name, limit, active,
/// slot_decay_per_second}.
[[nodiscard]] event global_limit_lifecycle_event(lifecycle_action a, const concurrency_limit& l, timestamp occurred);

/// prefect.flow.<action>: payload {name, tags, labels}.
[[nodiscard]] event flow_lifecycle_event(lifecycle_action a, const flow& f, timestamp occurred);

/// prefect.block-type.<action>: payload {name, slug, logo_url, documentation_url, description, code_example,
/// is_protected}.
[[nodiscard]] event block_type_lifecycle_event(lifecycle_action a, const block_type& t, timestamp occurred);

/// prefect.block-document.<action>: payload {name, data: the string values of its data except the schema's
/// secret fields, block_schema: {capabilities, block_type: {id, name}}}; related: its block type (named) and
/// block schema. `schema_fields` is the schema's `fields` (its "secret_fields" list is read).
[[nodiscard]] event block_document_lifecycle_event(lifecycle_action a, const block_document& d,
                                                   const nlohmann::json& schema_fields,
                                                   const std::vector<std::string>& capabilities, timestamp occurred);

/// prefect.artifact-collection.<action>: payload {key, type, data, description}; related: the latest artifact
/// ("latest") and its flow run and task run.
[[nodiscard]] event artifact_collection_lifecycle_event(lifecycle_action a, const artifact_collection& c,
                                                        timestamp occurred);

}  // namespace osprey
