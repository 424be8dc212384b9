-- Osprey schema revision 1af0c9a9f03a (automation_actions_outbox), PostgreSQL, downgrade.
-- Action jobs have no place in the older outbox: they are dropped first.

DELETE FROM notification_outbox WHERE kind = 'action';
ALTER TABLE notification_outbox DROP CONSTRAINT ck_notification_outbox__kind;
ALTER TABLE notification_outbox ADD CONSTRAINT ck_notification_outbox__kind
    CHECK (kind IN ('trigger', 'resolve', 'test'));
