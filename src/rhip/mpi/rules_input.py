"""Checks of a matching query (``Patient/$match``, ``POST /api/mpi/match``) before anything is scored (pure).

A query needs something to match on: a usable name, an ID number, or a phone. Garbage is refused with
a message saying exactly which field is wrong, rather than quietly matching nothing.
"""

from __future__ import annotations

from datetime import date

from rhip.kit.errors import FieldError
from rhip.kit.idcard import normalize as normalize_id
from rhip.mpi.candidates import fields_of
from rhip.mpi.rules import PersonFields
from rhip.mpi.rules_fields import normalize_phone, normalize_sex
from rhip.mpi.rules_names import _is_cjk, normalize_name

MAX_COUNT = 50


def _name_problem(name: str) -> FieldError | None:
    n = normalize_name(name)
    letters = [ch for ch in n if _is_cjk(ch) or ch.isalpha()]
    if not n or not letters:
        return FieldError("name", "name.garbage", f"姓名“{name}”不含汉字或字母，无法匹配",
                          f"name {name!r} contains no Chinese characters or letters; cannot match on it")
    if any(ch.isdigit() for ch in n):
        return FieldError("name", "name.digits", f"姓名“{name}”含有数字", f"name {name!r} contains digits")
    if len(n) > 40:
        return FieldError("name", "name.too_long", "姓名超过40个字", "name is longer than 40 characters")
    return None


def check_query(data: dict, *, today: date) -> tuple[PersonFields | None, list[FieldError]]:
    """``data``: name, id_number, sex, birth_date (date or ISO text), phones (list), village_code.
    Returns the fields to match on, or the problems."""
    errors: list[FieldError] = []
    name = data.get("name")
    if name is not None and str(name).strip():
        problem = _name_problem(str(name))
        if problem:
            errors.append(problem)
    elif name is not None:
        errors.append(FieldError("name", "name.empty", "姓名为空", "name is empty"))
    idn = data.get("id_number")
    if idn is not None:
        s = normalize_id(str(idn))
        if len(s) not in (15, 18) or not s[:-1].isdigit() or not (s[-1].isdigit() or (len(s) == 18 and s[-1] == "X")):
            errors.append(FieldError("id_number", "id_number.format",
                                     "身份证号应为18位（末位可为X）或15位数字",
                                     f"ID number {idn!r} must be 18 characters (digits, last may be X) or 15 digits"))
    birth = data.get("birth_date")
    if birth is not None and not isinstance(birth, date):
        try:
            birth = date.fromisoformat(str(birth))
        except ValueError:
            errors.append(FieldError("birth_date", "birth_date.invalid", f"出生日期“{birth}”不是有效日期",
                                     f"birth date {birth!r} is not a valid date (YYYY-MM-DD)"))
            birth = None
    if isinstance(birth, date) and (birth > today or birth.year < 1890):
        errors.append(FieldError("birth_date", "birth_date.impossible", f"出生日期{birth}不可能",
                                 f"birth date {birth} is impossible (in the future or before 1890)"))
    phones = [str(p) for p in data.get("phones") or [] if p]
    for p in phones:
        if len(normalize_phone(p)) < 7:
            errors.append(FieldError("phone", "phone.format", f"电话“{p}”不是有效号码",
                                     f"phone {p!r} has fewer than 7 digits"))
    sex = data.get("sex")
    if sex is not None and not normalize_sex(sex) and str(sex) not in ("0", "9"):
        errors.append(FieldError("sex", "sex.code", f"性别“{sex}”无效", f"sex {sex!r} is not valid"))
    village = data.get("village_code")
    if village and not (str(village).isdigit() and len(str(village)) in (6, 9, 12)):
        errors.append(FieldError("village_code", "village_code.format", "区划代码应为6、9或12位数字",
                                 "division code must have 6, 9 or 12 digits"))
    usable = (name and not any(e.field == "name" for e in errors)) or (idn and not any(
        e.field == "id_number" for e in errors)) or (phones and not any(e.field == "phone" for e in errors))
    if not errors and not usable:
        errors.append(FieldError("name", "query.nothing_to_match", "至少需要姓名、身份证号或电话之一",
                                 "give at least a name, an ID number or a phone to match on"))
    if errors:
        return None, errors
    return fields_of(name, normalize_id(str(idn)) if idn else None, None, str(sex) if sex else None, birth,
                     phones[0] if phones else None, phones[1] if len(phones) > 1 else None,
                     str(village) if village else None, None), []


def check_count(count: object) -> list[FieldError]:
    if count is None:
        return []
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
        return [FieldError("count", "count.range", f"count 应为1–{MAX_COUNT}的整数",
                           f"count must be an integer from 1 to {MAX_COUNT}")]
    return []
