"""Saves blocks (argv[1] == "save") or loads them (argv[1] == "load"), named with the suffix argv[2]: a Secret holding
a string, a Secret holding JSON, and a custom block with a secret field and a JSON field; the loaded values are
reported. Saving twice without overwrite must be refused by the client (the server answers 409)."""
import sys

from prefect.blocks.system import Secret

from _report import report
from weather_blocks import WeatherService

MODE, SUFFIX = sys.argv[1], sys.argv[2]

if MODE == "save":
    Secret(value=f"s3cr3t-{SUFFIX}").save(f"token-{SUFFIX}")
    Secret(value={"user": "ada", "password": f"pw-{SUFFIX}", "ports": [1, 2.5]}).save(f"login-{SUFFIX}")
    WeatherService(city="Oslo", api_key=f"key-{SUFFIX}", options={"units": "metric", "days": 3}).save(f"oslo-{SUFFIX}")
    try:
        Secret(value="other").save(f"token-{SUFFIX}")
        report(duplicate="accepted")
    except ValueError as e:
        report(duplicate=str(e))
    Secret(value=f"rotated-{SUFFIX}").save(f"token-{SUFFIX}", overwrite=True)
    report(saved=True)
else:
    weather = WeatherService.load(f"oslo-{SUFFIX}")
    report(
        token=Secret.load(f"token-{SUFFIX}").get(),
        login=Secret.load(f"login-{SUFFIX}").get(),
        city=weather.city,
        api_key=weather.api_key.get_secret_value(),
        options=weather.options,
    )
