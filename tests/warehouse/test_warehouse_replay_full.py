"""Daily updates equal a full rebuild, on the `full` gateway (PostgreSQL state, S3 lake): a
month of days replayed a week per update, the days around the late export and the old-orders day
one update each (the `local` gateway's replay takes every day alone; here what is tested is the
gateway: S3 listings and reads, state in PostgreSQL).

The real sample as of 2018-05-31, then the 30 days after it, as `olist run` takes them in: the
exports of the days since the last update land in the lake and the warehouse is brought up to
date from them
(macros/incremental.py: only the new exports are read, only what they touch is recomputed). Among
the days, an export whose completion record arrives two days late, after a newer export was taken
in, and a day whose files change only orders placed long before: helpers.replay says how they are
made, and holds the tests (DailyReplayTests), which run here on this gateway.

After the old-orders day and after the last day, a warehouse planned from scratch on the same
lake holds exactly the same rows in every staging, intermediate and mart table, `_batch` (which
update wrote a row) aside; and every update rewrote exactly the orders its exports touched,
counted independently from the export files.
"""

from __future__ import annotations

import pytest
from helpers.replay import DailyReplayTests

pytestmark = pytest.mark.slow


class TestDailyReplay(DailyReplayTests):
    gateway = "full"
    weekly = True
