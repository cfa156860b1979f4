"""Comparison levels of the master patient index (one Enum per compared field).

Each member's ``value`` is a stable lower-case string: it is stored with match
results and shown in the review queue, so never rename a value (add a new member
instead).  Members are declared best first; ``rank`` is that position (0 = best)
and ``best_of`` picks the strongest evidence among several comparisons.

``MISSING`` ("either side absent or unusable") is always last: Fellegi–Sunter
scoring gives it weight 0, so it must never be mistaken for disagreement.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import TypeVar

__all__ = [
    "Level", "NameLevel", "IdLevel", "DateLevel", "PhoneLevel", "SexLevel",
    "VillageLevel", "HouseholdLevel", "best_of",
]

L = TypeVar("L", bound="Level")


class Level(Enum):
    """Base of all comparison levels: ``value`` (stable code), ``label_zh``, ``label_en``, ``rank``."""

    def __new__(cls, value: str, label_zh: str, label_en: str):
        obj = object.__new__(cls)
        obj._value_ = value
        obj.label_zh = label_zh  # type: ignore[attr-defined]
        obj.label_en = label_en  # type: ignore[attr-defined]
        obj._rank = len(cls.__members__)  # type: ignore[attr-defined]  # declaration order
        return obj

    @property
    def rank(self) -> int:
        """Position in the declaration order: 0 is the strongest agreement."""
        return self._rank  # type: ignore[attr-defined]

    @property
    def is_missing(self) -> bool:
        return self.value == "missing"

    def __str__(self) -> str:  # what a log line or a template shows
        return self.value


def best_of(levels: Iterable[L], missing: L) -> L:
    """The strongest non-missing level in ``levels``; ``missing`` if there is none."""
    found = [lv for lv in levels if not lv.is_missing]
    return min(found, key=lambda lv: lv.rank) if found else missing


class NameLevel(Level):
    EXACT = ("exact", "姓名完全一致", "identical name")
    SAME_PINYIN = ("same_pinyin", "同音（拼音相同，不计声调）", "same pinyin (homophone, tones ignored)")
    SWAPPED_GIVEN = ("swapped_given", "名字用字顺序颠倒", "given-name characters in another order")
    ONE_CHAR_DIFFERENT_SAME_SURNAME = (
        "one_char_different_same_surname", "同姓，名字有一个字不同", "same surname, one given-name character differs")
    SAME_SURNAME_ONLY = ("same_surname_only", "仅姓氏相同", "same surname only")
    DIFFERENT = ("different", "姓名不同", "different name")
    MISSING = ("missing", "姓名缺失", "name missing")


class IdLevel(Level):
    EXACT = ("exact", "身份证号一致", "same ID number")
    ONE_DIGIT_TYPO = ("one_digit_typo", "身份证号有一位不同", "ID number differs in one digit")
    TRANSPOSITION = ("transposition", "身份证号相邻两位颠倒", "two adjacent ID digits swapped")
    SAME_BIRTH_AND_DIVISION = (
        "same_birth_and_division", "地区码和出生日期相同，顺序码不同", "same division and birth date, other sequence")
    DIFFERENT = ("different", "身份证号不同", "different ID number")
    MISSING = ("missing", "身份证号缺失", "ID number missing")


class DateLevel(Level):
    EXACT = ("exact", "出生日期一致", "same birth date")
    DAY_MONTH_SWAPPED = ("day_month_swapped", "月和日颠倒", "day and month swapped")
    ONE_FIELD_DIFFERENT = ("one_field_different", "年、月、日中有一项不同", "year, month or day differs")
    WITHIN_1_YEAR = ("within_1_year", "相差一年以内", "within one year")
    DIFFERENT = ("different", "出生日期不同", "different birth date")
    MISSING = ("missing", "出生日期缺失", "birth date missing")


class PhoneLevel(Level):
    EXACT = ("exact", "电话号码一致", "same phone number")
    ONE_DIGIT_DIFFERENT = ("one_digit_different", "电话号码有一位不同", "phone differs in one digit")
    SAME_LAST_8 = ("same_last_8", "电话号码后8位相同", "same last 8 digits")
    DIFFERENT = ("different", "电话号码不同", "different phone number")
    MISSING = ("missing", "电话号码缺失", "phone missing")


class SexLevel(Level):
    SAME = ("same", "性别相同", "same sex")
    DIFFERENT = ("different", "性别不同", "different sex")
    MISSING = ("missing", "性别未知或缺失", "sex unknown or missing")


class VillageLevel(Level):
    SAME_VILLAGE = ("same_village", "同一村（居）委会", "same village")
    SAME_TOWNSHIP = ("same_township", "同一乡镇（街道）", "same township")
    SAME_COUNTY = ("same_county", "同一县（区）", "same county")
    DIFFERENT = ("different", "不同县（区）", "different county")
    MISSING = ("missing", "住址区划缺失", "division code missing")


class HouseholdLevel(Level):
    SAME = ("same", "同一户", "same household")
    DIFFERENT = ("different", "不同户", "different household")
    MISSING = ("missing", "户信息缺失", "household missing")
