"""Automations through the client's own models: create one with an event trigger and several actions, read it
back by id and by name, update it, disable and enable it, and delete it. argv[1]: a name prefix (unique per
test). Reports what each step saw."""
import sys
from datetime import timedelta
from uuid import uuid4

from prefect.automations import Automation
from prefect.events.actions import CancelFlowRun, ChangeFlowRunState, DoNothing, PauseDeployment, RunDeployment
from prefect.events.schemas.automations import CompoundTrigger, EventTrigger, Posture
from prefect.client.schemas.objects import StateType

from _report import report

prefix = sys.argv[1]
deployment_id = uuid4()

created = Automation(
    name=f"{prefix}-failures",
    description="tell someone",
    trigger=EventTrigger(
        expect={"prefect.flow-run.Failed"},
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "flow", "prefect.resource.name": "etl"},
        posture=Posture.Reactive,
        threshold=2,
        within=timedelta(minutes=5),
        for_each={"prefect.resource.id"},
    ),
    actions=[DoNothing(), CancelFlowRun(), RunDeployment(deployment_id=deployment_id, parameters={"x": 1}),
             ChangeFlowRunState(state=StateType.FAILED, message="stop")],
).create()
report(created_id=str(created.id))

by_id = Automation.read(id=created.id)
by_name = Automation.read(name=f"{prefix}-failures")
report(by_id={"name": by_id.name, "description": by_id.description, "enabled": by_id.enabled,
              "threshold": by_id.trigger.threshold, "within": by_id.trigger.within.total_seconds(),
              "expect": sorted(by_id.trigger.expect), "actions": [a.type for a in by_id.actions],
              "parameters": by_id.actions[2].parameters},
       same_by_name=by_name.id == created.id)

by_id.name = f"{prefix}-renamed"
by_id.trigger = CompoundTrigger(
    require="any", within=timedelta(seconds=30),
    triggers=[EventTrigger(expect={"a"}, posture=Posture.Reactive),
              EventTrigger(expect={"b"}, posture=Posture.Proactive, within=timedelta(seconds=20))])
by_id.actions = [PauseDeployment(source="inferred")]
by_id.update()
updated = Automation.read(id=created.id)
report(updated={"name": updated.name, "trigger": updated.trigger.type, "require": updated.trigger.require,
                "children": [t.posture.value for t in updated.trigger.triggers],
                "actions": [a.type for a in updated.actions]})

report(disabled=updated.disable(), after_disable=Automation.read(id=created.id).enabled)
report(enabled=updated.enable(), after_enable=Automation.read(id=created.id).enabled)
report(deleted=updated.delete())
try:
    Automation.read(id=created.id)
    report(read_after_delete="found")
except ValueError as e:
    report(read_after_delete=str(e))
