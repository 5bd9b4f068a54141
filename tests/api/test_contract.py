"""The API keeps its contract: schemathesis generates requests from the schema that the live
server itself serves at /api/schema/ and checks every answer against it (all checks: status
codes, content types, bodies, headers, auth, methods), anonymously and with a staff token, in
its examples, coverage and fuzzing phases.

The server is a real daphne on 127.0.0.1 with a seeded database, as in production; the public
rate limit is raised so that the generated requests reach the views instead of the throttle
(tests/api/test_throttling.py covers the limit, test_schema.py its documented 429).

schemathesis runs through its engine, as its CLI does, rather than its pytest plugin, whose
schema-from-a-fixture loader does not work with pytest 9.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from tests.live_site import live_site

pytestmark = pytest.mark.integration

# Each operation: its examples, the coverage phase's boundary and negative cases, and this many
# generated (fuzzing) cases; the two runs together take well under two minutes.
MAX_EXAMPLES = 25
SEED = 14

# Two cameras (one with frames, readings, a road region, a sequence and a day at a glance; one
# with nothing yet), a publish target, a worker that has beaten, and a staff user whose API
# token is printed.
SETUP = """
import datetime as dt
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from analytics.models import ConditionReading, RoadRegion
from cameras.models import Camera, Health
from publishing.models import PublishTarget, TargetKind
from sequences.builder import build_sequence
from sequences.digest import build_day
from tests.factories import frames, live_worker

now = timezone.now()
camera = Camera.objects.create(
    name="Demo road", slug="demo", location_name="Main St at 5th Ave",
    time_zone="America/New_York", capture_width=640, capture_height=360,
    update_interval_minutes=5, frames_per_sequence=5, latitude=40.71, longitude=-74.0,
)
Camera.objects.create(name="Side road", slug="side-road", location_name="Side road")
stored = frames(camera, 5, now - dt.timedelta(seconds=40))
Camera.objects.filter(pk=camera.pk).update(health=Health.OK, last_frame_at=now)
for hour in range(12):
    ConditionReading.objects.create(
        camera=camera, measured_at=now - dt.timedelta(hours=hour), state="snow", level="light",
        published_state="snow", published_level="light", reason="snow on the road",
        snow_coverage=0.2, wetness=0.2, ice_likelihood=0.1, brightness=0.5, confidence=0.8,
        temperature_c=-1.0,
    )
RoadRegion.objects.create(camera=camera, operator_polygon=[[0.0, 1.0], [0.5, 0.5], [1.0, 1.0]])
build_sequence(camera)
build_day(camera, stored[0].captured_at.astimezone(camera.tz).date())
PublishTarget.objects.create(name="vps", kind=TargetKind.DIRECTORY, remote_path="/nonexistent")
live_worker()
staff = get_user_model().objects.create_user("operator", is_staff=True)
print(Token.objects.create(user=staff).key)
"""


@dataclass
class LiveApi:
    base: str
    staff_token: str


@pytest.fixture(scope="module", autouse=True)
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hypothesis, under schemathesis, keeps its files in ./.hypothesis: not in the checkout."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    data = tmp_path_factory.mktemp("contract")
    with live_site(data, PUBLIC_RATE="1000000/min") as site:
        token = site.manage("shell", "-c", SETUP).split()[-1]
        site.start("/api/schema/")
        yield LiveApi(base=site.base, staff_token=token)


def contract_config(base: str, headers: dict[str, str]) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "base-url": base,
            "headers": headers,
            "seed": SEED,
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},  # nothing is created or deleted through the API
            },
            # Every built-in check, on every answer.
            "checks": {"enabled": True},
            # Nothing kept in the checkout (no example database, no cache of past runs): each
            # run starts from the seed alone.
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "cache": {"enabled": False},
            "operations": [
                # 503 is /api/health's documented answer when a check fails, not a crash.
                {
                    "include-path": "/api/health",
                    "checks": {
                        "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}
                    },
                },
            ],
        }
    )


@dataclass
class Run:
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{len(self.operations)} operations, {self.cases} cases, "
            f"{len(self.failures)} failures, {self.seconds:.1f} s"
        )


def run_schemathesis(api: LiveApi, headers: dict[str, str]) -> Run:
    schema = schemathesis.openapi.from_url(
        f"{api.base}/api/schema/?format=json", config=contract_config(api.base, headers)
    )
    run = Run()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            run.operations.add(recorder.label)
            run.cases += len(recorder.cases)
            for checks in recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        run.failures.append(
                            f"{recorder.label} ({event.phase.value}): {failure.title}\n"
                            f"{failure.message}\n{check.failure_info.code_sample}"
                        )
                    elif check.status == Status.ERROR:
                        run.failures.append(f"{recorder.label}: {check.name} could not run")
        elif isinstance(event, events.NonFatalError):
            run.failures.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            run.failures += [f"after the run: {f.title}\n{f.message}" for f in event.failures]
            run.seconds = event.running_time
    return run


def check(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\nschemathesis: {run}")
    assert run.operations, "schemathesis tested nothing"
    assert not run.failures, "\n\n".join(run.failures)


def test_the_api_keeps_its_contract_for_anyone(live_api: LiveApi, capsys) -> None:
    check(run_schemathesis(live_api, headers={}), capsys)


def test_the_api_keeps_its_contract_for_staff(live_api: LiveApi, capsys) -> None:
    token = {"Authorization": f"Token {live_api.staff_token}"}
    check(run_schemathesis(live_api, headers=token), capsys)
