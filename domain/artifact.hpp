#pragma once
// Prefect's artifacts: what a run publishes for people to read (markdown, tables, links, progress, images,
// results). Each artifact is one row; artifacts sharing a key form a collection whose row mirrors the latest
// one (Prefect's artifact_collection). The checks of Prefect 3.9.1's ArtifactCreate / ArtifactUpdate as pure
// functions; persistence/artifact_store keeps the rows and the collection in step.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "domain/field_problem.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

namespace osprey {

using artifact_id = typed_id<struct artifact_tag>;

/// The fields an artifact and its collection row share.
struct artifact_fields {
  std::optional<std::string> type;
  std::optional<std::string> description;
  nlohmann::json data;      ///< any JSON; null when there is none
  nlohmann::json metadata;  ///< null, or an object of strings (Prefect's `metadata_`)
  std::optional<uuid> flow_run_id;
  std::optional<uuid> task_run_id;
};

/// One artifact as stored.
struct artifact {
  artifact_id id;
  timestamp created;
  timestamp updated;
  std::optional<std::string> key;
  artifact_fields fields;
};

/// The latest artifact of a key (Prefect's ArtifactCollection): its own id and times, the artifact's fields.
struct artifact_collection {
  uuid id;
  timestamp created;
  timestamp updated;
  std::string key;
  artifact_id latest_id;
  artifact_fields fields;
};

/// Longest metadata value kept whole; longer ones are cut to this many characters and "..." (as Prefect does).
inline constexpr std::size_t max_artifact_metadata_length = 500;

/// Prefect's ArtifactKey: only a-z, 0-9 and '-'. The problem's field is "key".
std::optional<field_problem> check_artifact_key(const std::string& key);

/// Checks `metadata_` (an object of strings; the problem names "metadata_.<key>") and cuts long values.
std::optional<field_problem> normalise_artifact_metadata(nlohmann::json& metadata);

}  // namespace osprey
