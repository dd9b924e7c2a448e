"""A case's priority (0-100): later delinquency buckets and larger debts first.

Recovery odds fall as days past due grow, so each bucket gets a base weight; within a bucket,
larger outstanding amounts come first on a log scale (a 100 M COP debt is not 100× more urgent
than a 1 M one). The planner reads the stored priority; dispatchers may override it.
"""

from __future__ import annotations

import math
from decimal import Decimal

BUCKET_BASE = {"0-30": 20, "31-60": 40, "61-90": 55, "91-180": 65, "180+": 50}
"""180+ ranks below 91-180: by then many cases go to legal collection, not field visits."""


def bucket_of(days_past_due: int) -> str:
    """The delinquency bucket, as the database's generated column computes it."""
    for limit, name in ((30, "0-30"), (60, "31-60"), (90, "61-90"), (180, "91-180")):
        if days_past_due <= limit:
            return name
    return "180+"


def initial_priority(days_past_due: int, outstanding_cop: Decimal | float) -> int:
    amount = max(float(outstanding_cop), 1.0)
    # 100,000 COP → +0, 100,000,000 COP → +30, linear in log10 and clamped.
    amount_points = min(30.0, max(0.0, (math.log10(amount) - 5.0) * 10.0))
    return int(min(100, BUCKET_BASE[bucket_of(days_past_due)] + round(amount_points)))
