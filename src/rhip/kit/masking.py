"""Masking of ID numbers and phone numbers in lists (shown whole only on audited detail views)."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str | None:
    """``11010519491231002X`` → ``1101**********002X`` (first 4 and last 4 kept)."""
    if not value:
        return value
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return value
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
