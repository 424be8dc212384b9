-- Osprey schema revision 759f2ae4b1bc (api_keys), SQLite, upgrade.
-- API keys (hashed, with a scope) for clients of a server that requires them
-- api_key: one row per key made by `osprey api-key create`. key_id is the public part of the key's text,
-- secret_hash the SHA-256 of the whole text (the text itself is never stored). scope is read, write or admin.

CREATE TABLE api_key (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    name VARCHAR NOT NULL,
    key_id VARCHAR NOT NULL,
    secret_hash VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    expires TEXT,
    revoked TEXT,
    last_used TEXT,
    CONSTRAINT pk_api_key PRIMARY KEY (id),
    CONSTRAINT uq_api_key__name UNIQUE (name),
    CONSTRAINT uq_api_key__key_id UNIQUE (key_id),
    CONSTRAINT ck_api_key__scope CHECK (scope IN ('read', 'write', 'admin'))
);
CREATE INDEX ix_api_key__updated ON api_key (updated);
