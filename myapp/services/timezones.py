"""Time zones: which names a user may choose, spelled canonically, and loading them safely.

Pure (no Flask, no database). The list comes from the pinned tzdata package, not from
the operating system, whose zoneinfo folder also holds files that are not zones
(`localtime`, `posixrules`) and other variants (`posix/`, `right/`).
"""
from __future__ import annotations

from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

UTC = "UTC"
# Names tzdata lists that are not places a person lives in.
REFUSED = frozenset({"Factory", "localtime", "posixrules"})


@cache
def _tzdata() -> tuple[frozenset[str], dict[str, str]]:
    """Every zone name tzdata knows, and each link (an old or alternative name) -> its zone."""
    root = resources.files("tzdata")
    names = frozenset(line.strip() for line in (root / "zones").read_text().splitlines() if line.strip())
    links = {}
    for line in (root / "zoneinfo" / "tzdata.zi").read_text().splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    return names, links


def canonical(name: Any) -> str | None:
    """The canonical IANA name for `name` (a zone or a link to one), or None if it is not one.

    Links resolve to their zone (Asia/Calcutta -> Asia/Kolkata); every spelling of UTC
    is "UTC".
    """
    if not isinstance(name, str):
        return None
    names, links = _tzdata()
    if name not in names or name in REFUSED or name.startswith(("posix/", "right/")):
        return None
    target = links.get(name, name)
    return UTC if target == "Etc/UTC" else target


@cache
def choices() -> tuple[str, ...]:
    """The canonical names, sorted: what the time zone menus offer."""
    names, _ = _tzdata()
    return tuple(sorted({zone for zone in map(canonical, names) if zone}))


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The zone of that name; UTC when it cannot be loaded, so no page fails on a bad zone."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return ZoneInfo(UTC)


def today_in(name: str, at: datetime | None = None) -> date:
    """Today's date where the user is (or the date there at the moment `at`)."""
    return (at.astimezone(zone(name)) if at else datetime.now(zone(name))).date()


def now_in(name: str) -> datetime:
    """The wall-clock time where the user is, without its zone (as due dates and times are kept)."""
    return datetime.now(zone(name)).replace(tzinfo=None)
