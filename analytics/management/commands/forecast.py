"""`manage.py forecast NAME [--json]`: fetch the camera's forecast now and print its alerts."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from analytics.alerts import ForecastStatus, forecast_state, refresh_forecast
from cameras.models import Camera
from cameras.units import temperature_text


class Command(BaseCommand):
    help = "Fetch a camera's weather forecast now, store it, and print its snow and ice alerts."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="Camera name or slug.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        camera = Camera.objects.filter(Q(slug=name) | Q(name=name)).first()
        if camera is None:
            raise CommandError(f"No camera named “{name}”.")
        refresh_forecast(camera)
        state = forecast_state(camera)
        if options["json"]:
            self.stdout.write(json.dumps(as_json(camera, state)))
            return
        self.stdout.write(f"{camera.name}: {state.message or ForecastStatus(state.status).label}")
        if state.temperature_c is not None:
            units = camera.display_units
            self.stdout.write(f"Temperature: {temperature_text(state.temperature_c, units)}")
        for alert in state.alerts:
            self.stdout.write(f"  {alert.text}")
        if state.status == ForecastStatus.OK and not state.alerts:
            self.stdout.write("  No snow or ice alerts in the next 24 hours.")


def as_json(camera: Camera, state: Any) -> dict[str, Any]:
    return {
        "camera": camera.slug,
        "status": state.status,
        "message": state.message,
        "provider": state.provider,
        "temperature_c": state.temperature_c,
        "units": camera.display_units.value,
        "alerts": [a.to_json() for a in state.alerts],
    }
