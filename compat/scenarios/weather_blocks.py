"""A custom block module for `prefect block register -m weather_blocks` (on PYTHONPATH: compat/scenarios)."""
from typing import Any

from pydantic import SecretStr

from prefect.blocks.core import Block


class WeatherService(Block):
    """Where to fetch forecasts from."""

    city: str
    api_key: SecretStr
    options: dict[str, Any] = {}
