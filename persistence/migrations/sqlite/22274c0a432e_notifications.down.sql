-- Osprey schema revision 22274c0a432e (notifications), SQLite, downgrade: exactly undoes the upgrade.
-- Notification policies and the notification delivery outbox

DROP TABLE notification_outbox;
DROP TABLE notification_policy;
