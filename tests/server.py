"""A real campo server process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.conftest import ROOT


class Server:
    """A uvicorn process serving campo on a free loopback port (``campo=True``: started as
    ``campo serve`` starts it, with its own settings, in one process)."""

    def __init__(self, *, campo: bool = False, env: dict[str, str] | None = None) -> None:
        self.campo = campo
        self.env = env or {}
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = (
            [str(Path(sys.executable).parent / "campo"), "serve", "--workers", "1"]
            if self.campo
            else [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                "3",  # open event streams (the console's feed) end with the server
            ]
        )
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)], cwd=ROOT, env={**os.environ, **self.env}
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not come up")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
