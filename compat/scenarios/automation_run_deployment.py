"""An automation whose run-deployment action starts a deployment's run with a parameter rendered from the
triggering event. argv: "create NAME DEPLOYMENT_ID" creates it (reactive on NAME.go; x = the event's payload n,
kept an int by Prefect's template upgrade), "emit NAME N" sends NAME.go with payload {"n": N}. Reports the
automation's id."""
import sys

from prefect.automations import Automation
from prefect.events import emit_event
from prefect.events.actions import RunDeployment
from prefect.events.schemas.automations import EventTrigger, Posture

from _report import report

what, name = sys.argv[1], sys.argv[2]

if what == "create":
    automation = Automation(
        name=name,
        trigger=EventTrigger(expect={f"{name}.go"}, posture=Posture.Reactive, threshold=1),
        actions=[RunDeployment(source="selected", deployment_id=sys.argv[3],
                               parameters={"x": "{{ event.payload.n }}"})],
    ).create()
    report(automation_id=str(automation.id))
else:
    emit_event(event=f"{name}.go", resource={"prefect.resource.id": f"{name}.source"}, payload={"n": int(sys.argv[3])})
    report(emitted=True)
