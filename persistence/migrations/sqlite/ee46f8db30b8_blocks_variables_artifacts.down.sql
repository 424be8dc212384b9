-- Osprey schema revision ee46f8db30b8 (blocks_variables_artifacts), SQLite, downgrade: exactly undoes the upgrade.
-- Blocks, variables, artifacts, configuration, CSRF tokens and saved searches

DROP TABLE saved_search;
DROP TABLE csrf_token;
DROP TABLE configuration;
DROP TABLE artifact_collection;
DROP TABLE artifact;
DROP TABLE variable;
DROP TABLE block_document_reference;
DROP TABLE block_document;
DROP TABLE block_schema_reference;
DROP TABLE block_schema;
DROP TABLE block_type;
