"""How long the next date of a recurring task takes, by how far back its anchor lies.

The app (myapp/services/recurrence.py) starts dateutil near the date asked for, so an
anchor in 1900 costs what one this year does; dateutil started at the anchor itself (what
a plain `rrule(dtstart=anchor).after(today)` does) walks every date in between. Prints
microseconds per next date for each rule and anchor, both ways, and their ratio.

    .venv/bin/python bench/recurrence.py [--repeat 200]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime
from functools import partial
from pathlib import Path

from dateutil import rrule as du

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from myapp.services import phrases, recurrence  # noqa: E402

PHRASES = ("every day", "every 3 days", "every mon, wed and fri", "every 31st", "every last friday", "every jan 5")
ANCHORS = (date(1900, 1, 1), date(2000, 1, 1), date.today().replace(day=1))


def per_call(fn, repeat: int) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    today = date.today()
    print(f"next date after {today}: microseconds per call (the app's / dateutil from the anchor)")
    print(f"{'rule':26} {'anchor':>10} {'app µs':>9} {'from anchor µs':>15} {'ratio':>7}")
    for phrase in PHRASES:
        rule, _ = phrases.parse_phrase(phrase)
        for anchor in ANCHORS:
            app = per_call(partial(recurrence.first_on_or_after, rule, anchor, today), args.repeat)
            plain = du.rrule(dtstart=datetime(anchor.year, anchor.month, anchor.day),
                             **recurrence.rrule_arguments(rule, anchor))
            stepping = per_call(partial(plain.after, datetime(today.year, today.month, today.day), inc=True),
                                max(1, args.repeat // 20))
            assert recurrence.first_on_or_after(rule, anchor, today) == \
                plain.after(datetime(today.year, today.month, today.day), inc=True).date()
            print(f"{phrase:26} {anchor.isoformat():>10} {app:9.1f} {stepping:15.1f} {stepping / app:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
