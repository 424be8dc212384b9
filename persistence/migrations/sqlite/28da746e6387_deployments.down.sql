-- Osprey schema revision 28da746e6387 (deployments), SQLite, downgrade: exactly undoes the upgrade.
-- Deployments and deployment schedules

DROP TABLE deployment_schedule;
DROP TABLE deployment;
