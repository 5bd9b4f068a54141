"""Settings for the test run: the project's own settings, read as a fresh start would read them,
except that no developer's `.env` is read and the data folder is a throwaway one.

pytest loads this module (pyproject.toml: `--ds`), so neither a `.env` in the checkout
(`DEBUG=true`, a `DATABASE_URL` pointing elsewhere) nor anything already in `./data` can change
or be changed by a test. Both are passed through the environment, before `settings` reads it,
because that is the only way in; processes that tests start inherit them too (tests/processes.py
gives each its own data folder on top).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_DATA_DIR = tempfile.mkdtemp(prefix="imgserv-test-data-")
atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)
os.environ["IMGSRV_DATA_DIR"] = _DATA_DIR
os.environ["IMGSRV_ENV_FILE"] = ""

from imgserv_site.settings import *  # noqa: E402, F403
from imgserv_site.settings import BASE_DIR, DATA_DIR, ENV_FILE  # noqa: E402

# Said here as well as above, so that a change to how settings.py reads either fails at once.
if ENV_FILE or Path(_DATA_DIR).resolve() != DATA_DIR or DATA_DIR.is_relative_to(BASE_DIR):
    raise RuntimeError(f"test settings must read no .env and keep data out of {BASE_DIR}")
