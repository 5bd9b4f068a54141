"""The web process stays small: loading the site (settings, URLs, admin, websocket routing)
imports no image library. Those cost 80–150 MiB per process and only the worker needs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["cv2", "numpy", "av", "PIL"]
PROBE = f"""
import json, sys, django
django.setup()
import imgserv_site.asgi
from django.contrib import admin
from django.urls import get_resolver
get_resolver().url_patterns
admin.autodiscover()
print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""


def test_it_loads_the_site_without_image_libraries(tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "imgserv_site.settings", "IMGSRV_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


WORKER_PROBE = """
import json, sys, django
django.setup()
import importlib
from imgserv_site.management.commands import worker
for module in worker.TASK_MODULES:
    importlib.import_module(module)
import cameras.runner, mqtt.service
loaded = {m.split(".")[0] for m in sys.modules}
print(json.dumps(sorted(loaded & {"twisted", "autobahn", "daphne"})))
"""


def test_the_worker_loads_no_web_server(tmp_path):
    """Twisted and daphne are the web process's: 18 MiB more in each worker process."""
    env = {"DJANGO_SETTINGS_MODULE": "imgserv_site.settings", "IMGSRV_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", WORKER_PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
