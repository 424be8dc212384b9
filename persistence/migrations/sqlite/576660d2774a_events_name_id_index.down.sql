-- Osprey schema revision 576660d2774a (events_name_id_index), SQLite, downgrade: exactly undoes the upgrade.
-- Drops the (event, id) index of events: no query reads it, every stored event paid for it

CREATE INDEX ix_events__event__id ON events (event, id);
