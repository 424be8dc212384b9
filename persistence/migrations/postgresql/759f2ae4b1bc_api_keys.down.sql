-- Osprey schema revision 759f2ae4b1bc (api_keys), PostgreSQL, downgrade: exactly undoes the upgrade.
-- API keys (hashed, with a scope) for clients of a server that requires them

DROP TABLE api_key;
