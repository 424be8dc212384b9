-- Osprey schema revision 5d55e5789a1a (events), SQLite, downgrade: exactly undoes the upgrade.
-- Events and event resources

DROP TABLE event_resources;
DROP TABLE events;
