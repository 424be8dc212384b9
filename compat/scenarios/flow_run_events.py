"""Subscribes to /api/events/out for one flow run's prefect.flow-run.* events and reports them until the event
named argv[2] arrives. argv[1]: the flow run id."""
import asyncio
import sys

from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

from _report import report


async def main(flow_run_id, last):
    events = []
    wanted = EventFilter(event=EventNameFilter(prefix=["prefect.flow-run."]),
                         resource=EventResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"]))
    async with get_events_subscriber(filter=wanted) as subscriber:
        report(subscribed=True)
        async for event in subscriber:
            events.append({"event": event.event, "resource": event.resource.id, "id": event.id,
                           "state_type": event.resource.get("prefect.state-type")})
            report(events=events)
            if event.event == last:
                return


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
