-- Osprey schema revision b589394fae2d (automation_replay), SQLite, downgrade.

DROP INDEX ix_events__received;
DROP TABLE automation_evaluation_progress;
DROP INDEX ix_automation_evaluated_event__received;
DROP TABLE automation_evaluated_event;
