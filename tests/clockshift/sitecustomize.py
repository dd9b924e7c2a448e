"""Every Python process of a test run under ``scripts/test-clocks`` lives at the same shifted
time: the test process and the servers, workers, CLI commands and notebook kernels it starts.

``scripts/test-clocks`` puts this folder on ``PYTHONPATH`` and sets
``CAMPO_TEST_CLOCK_OFFSET_S`` (seconds from the real time); Python imports ``sitecustomize``
at start-up, before any test or campo code, and time-machine moves the wall clock by that
offset and lets it tick. Monotonic clocks are left alone (timeouts stay real). PostgreSQL and
Chromium get the same offset from libfaketime, so every clock of the run agrees.
"""

from __future__ import annotations

import os
import time

import time_machine

_offset = os.environ.get("CAMPO_TEST_CLOCK_OFFSET_S")
if _offset:
    time_machine.travel(time.time() + float(_offset), tick=True).start()
    time.time()  # time-machine ticks from the first reading: take it now, not at first use
