-- Osprey schema revision 576660d2774a (events_name_id_index), PostgreSQL, upgrade.
-- Drops the (event, id) index of events: no query reads it, every stored event paid for it
-- Never read: (event, id). Event names are always filtered together with the occurred window, which
-- (event, occurred, id) serves, and nothing orders by id within a name. It cost one b-tree insert per stored
-- event.

DROP INDEX ix_events__event__id;
