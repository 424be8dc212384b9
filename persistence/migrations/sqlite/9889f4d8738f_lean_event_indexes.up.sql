-- Osprey schema revision 9889f4d8738f (lean_event_indexes), SQLite, upgrade.
-- Drops event indexes no query uses, which every stored event paid for
-- Covered by a longer index with the same leading columns: (occurred) by (occurred, id), (event, occurred) by
-- (event, occurred, id). Never read: the updated columns of events and event_resources (events are written
-- once).

DROP INDEX ix_events__updated;
DROP INDEX ix_events__occurred;
DROP INDEX ix_events__event_occurred;
DROP INDEX ix_event_resources__updated;
