"""The platform's clock. Datetimes are stored naive, in the platform's timezone (``RHIP_TIMEZONE``,
default Asia/Shanghai) whatever the server's own timezone: a reading taken at 07:00 in the county belongs to
that day, in searches and in indicators."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from rhip.settings import get_settings


@cache
def platform_tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def now() -> datetime:
    """Naive platform-local time, to the second."""
    return datetime.now(platform_tz()).replace(tzinfo=None, microsecond=0)


def to_platform(dt: datetime) -> datetime:
    """An aware datetime as naive platform-local time; a naive one is taken to be platform-local already."""
    return dt.astimezone(platform_tz()).replace(tzinfo=None) if dt.tzinfo else dt


def aware(dt: datetime) -> datetime:
    """A stored (naive, platform-local) datetime with the platform's offset attached."""
    return dt.replace(tzinfo=platform_tz()) if dt.tzinfo is None else dt
