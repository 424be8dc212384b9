-- Osprey schema revision 9889f4d8738f (lean_event_indexes), SQLite, downgrade: exactly undoes the upgrade.
-- Drops event indexes no query uses, which every stored event paid for

CREATE INDEX ix_events__updated ON events (updated);
CREATE INDEX ix_events__occurred ON events (occurred);
CREATE INDEX ix_events__event_occurred ON events (event, occurred);
CREATE INDEX ix_event_resources__updated ON event_resources (updated);
