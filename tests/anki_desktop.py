"""Run Anki desktop (the `aqt` package from PyPI) headless with the AnkiConnect add-on, for the tests
and the benchmark that talk to the real add-on.

The add-on is GPL and is not part of this repository: its `plugin/` folder is named by the
environment variable `NOTECARDS_ANKICONNECT_ADDON` (e.g. from
`git archive HEAD plugin` of github:FooSoft/anki-connect). `missing()` says why Anki cannot be run
here, so a test can skip with that reason.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ADDON_ENV = "NOTECARDS_ANKICONNECT_ADDON"
PROFILE = "notecards-test"

_MAKE_PROFILE = """
import sys
from aqt.profiles import ProfileManager
pm = ProfileManager(ProfileManager.get_created_base_folder(sys.argv[1]))
pm.setupMeta()
pm.meta["firstRun"] = False
pm.setLang("en_US")
pm.create(sys.argv[2])
pm.load(sys.argv[2])
pm.save()
"""


def missing() -> str | None:
    """Why a real Anki with AnkiConnect cannot run here, or None when it can."""
    addon = os.environ.get(ADDON_ENV)
    if not addon:
        return f"set {ADDON_ENV} to AnkiConnect's plugin/ folder to run against a real Anki"
    if not (Path(addon) / "__init__.py").is_file():
        return f"{ADDON_ENV}={addon} is not AnkiConnect's plugin/ folder (no __init__.py)"
    if importlib.util.find_spec("aqt") is None:
        return "Anki desktop is not installed (pip install 'aqt[qt6]')"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AnkiDesktop:
    """One headless Anki, with its own base folder and profile, and AnkiConnect on a free port."""

    def __init__(self, base: Path, api_key: str | None = None):
        self.base = Path(base)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = api_key
        self.process: subprocess.Popen | None = None

    @property
    def collection(self) -> Path:
        return self.base / PROFILE / "collection.anki2"

    def start(self, timeout: float = 90.0) -> "AnkiDesktop":
        # one single-instance key per base folder: Anki otherwise hands its arguments to any Anki
        # of this user already running (another test's, or the user's own) and exits
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1",
                   ANKI_NOHIGHDPI="1", QTWEBENGINE_CHROMIUM_FLAGS="--disable-gpu",
                   ANKI_SINGLE_INSTANCE_KEY="notecards-" + hashlib.sha1(str(self.base.resolve()).encode()).hexdigest()[:12])
        env.pop("PYTHONPATH", None)          # Anki's own interpreter state, not notecards'
        if not (self.base / "prefs21.db").exists():
            subprocess.run([sys.executable, "-c", _MAKE_PROFILE, str(self.base), PROFILE],
                           check=True, env=env, capture_output=True, timeout=60)
        self._install_addon()
        log = open(self.base / "anki.log", "ab")
        self.process = subprocess.Popen([sys.executable, "-c", "import aqt; aqt.run()", "-b", str(self.base), "-p", PROFILE],
                                        env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        self._wait_until_answering(timeout)
        return self

    def _install_addon(self) -> None:
        target = self.base / "addons21" / "AnkiConnect"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(os.environ[ADDON_ENV], target, ignore=shutil.ignore_patterns("__pycache__"))
        config = json.loads((target / "config.json").read_text())
        config.update(webBindPort=self.port, apiKey=self.api_key)
        (target / "meta.json").write_text(json.dumps({"config": config}))

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Anki exited ({self.process.returncode}); see {self.base / 'anki.log'}")
            try:
                if self.call("version") is not None:
                    return
            except OSError:
                pass
            time.sleep(0.2)           # polling a server that is starting: no event to wait on
        raise RuntimeError(f"AnkiConnect did not answer within {timeout:.0f} s; see {self.base / 'anki.log'}")

    def call(self, action: str, **params):
        body = {"action": action, "version": 6, "params": params}
        if self.api_key:
            body["key"] = self.api_key
        request = urllib.request.Request(self.url, json.dumps(body).encode())
        with urllib.request.urlopen(request, timeout=120) as response:
            reply = json.loads(response.read())
        if reply["error"]:
            raise RuntimeError(f"{action}: {reply['error']}")
        return reply["result"]

    def stop(self) -> None:
        """Close Anki the way a user does, so it writes the collection; kill it if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "AnkiDesktop":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
