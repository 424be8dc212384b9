-- Osprey schema revision 85de70908452 (automations), PostgreSQL, downgrade: exactly undoes the upgrade.
-- Prefect's automations and the state their trigger evaluation keeps (orm_models.py, Prefect 3.9.1)

DROP TABLE automation_event_follower;
DROP TABLE composite_trigger_child_firing;
DROP TABLE automation_related_resource;
DROP TABLE automation_held_event;
DROP TABLE automation_bucket;
DROP TABLE automation;
