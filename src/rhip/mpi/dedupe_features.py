"""Derived columns for batch deduplication, computed in Python before the frame reaches Splink.

Splink compares columns with SQL; everything that needs Chinese-aware logic (NFKC, traditional →
simplified, pinyin with surname readings, ID-number bodies, day/month-swapped dates) is computed
here, once per *distinct* raw value (names, dates and phones repeat a lot), with the functions of
``rhip.mpi.rules``.  The SQL comparison levels in ``dedupe_model`` then only test equality, edit
distances and small arithmetic on these columns, so DuckDB and Spark give the same answers.

Unusable values are data faults: the field is treated as missing (NULL) for matching and counted in
:class:`Faults`; nothing raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from rhip.kit.hanzi import SIMILAR_SHAPE
from rhip.kit.idcard import check_char, normalize as normalize_id
from rhip.mpi.rules import id_body, normalize_name, normalize_phone, normalize_sex, split_name
from rhip.mpi.rules_fields import parse_birth_date
from rhip.mpi.rules_names import _KEEP_TRADITIONAL_SURNAMES, _surname_syllables, _syllables, _t2s

__all__ = ["INPUT_COLUMNS", "FEATURE_COLUMNS", "Faults", "build_features", "name_features", "id_features",
           "date_features", "address_features"]

#: Columns of a person file (CSV) and of the frame handed to :func:`build_features`.
INPUT_COLUMNS: tuple[str, ...] = ("record_id", "name", "id_number", "sex", "birth_date", "phone", "address")

#: Columns of the feature frame, in order (``unique_id`` is the record id).
FEATURE_COLUMNS: tuple[str, ...] = (
    "unique_id", "name_norm", "name_py", "sur", "sur_py", "given", "given_len", "given_sorted", "shape_key",
    "id17", "id_chk", "id14", "id_a", "id_b", "id_c", "id_ok", "dob", "dob_swap", "by", "bm", "bd", "dob_days", "sex",
    "phone", "phone8", "ph_a", "ph_b", "ph_c",
    "addr", "addr_town", "addr_village",
)

#: Placeholders typed into the name field when the name is unknown.
_PLACEHOLDER_NAMES = frozenset(("无", "不详", "未知", "无名", "無", "不詳", "未知姓名", "NULL", "NONE", "N/A", "NA",
                                "TEST", "测试", "XXX", "某某"))
_EARLIEST_BIRTH_YEAR = 1880


@dataclass
class Faults:
    """Counts of unusable field values (each treated as missing), with a few examples each."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    LABELS = {
        "name": ("姓名为空或无法识别", "empty or unreadable names"),
        "id_number": ("身份证号含非数字字符或位数不对", "ID numbers with non-digits or a wrong length"),
        "birth_date": ("出生日期不存在或无法识别", "impossible or unreadable birth dates"),
        "phone": ("电话号码无法识别", "unreadable phone numbers"),
        "sex": ("性别代码无法识别", "unreadable sex codes"),
    }

    def add(self, kind: str, n: int, examples: list[str]) -> None:
        if n:
            self.counts[kind] = self.counts.get(kind, 0) + n
            ex = self.examples.setdefault(kind, [])
            ex.extend(examples[: max(0, 3 - len(ex))])

    def lines(self) -> list[str]:
        out = []
        for kind, n in self.counts.items():
            zh, en = self.LABELS[kind]
            ex = "、".join(repr(e) for e in self.examples.get(kind, []))
            out.append(f"{zh} {n:,} 条（按缺失处理）/ {n:,} {en} (treated as missing)" + (f": {ex}" if ex else ""))
        return out


# ---------------------------------------------------------------- per-value functions

def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3134F or ch == "〇"


def _usable_name(norm: str) -> bool:
    if not norm or norm in _PLACEHOLDER_NAMES:
        return False
    letters = [ch for ch in norm if _is_cjk(ch) or ch.isalpha()]
    if not letters:
        return False
    # anything other than letters, CJK, the middle dot, a space, an apostrophe or a hyphen is junk
    return all(_is_cjk(ch) or ch.isalpha() or ch in "· '-" for ch in norm)


def _shape_key(given: str) -> str | None:
    """For a one-character given name: one representative of its similar-shape group (己/已/巳 → the same
    key), so the ONE_CHAR_DIFFERENT level of ``rules.compare_names`` can be tested with equality."""
    if len(given) != 1:
        return None
    return min((given, *SIMILAR_SHAPE.get(given, ())))


def name_features(raw: object, norm: str | None = None) -> tuple | None:
    """(name_norm, name_py, sur, sur_py, given, given_len, given_sorted, shape_key) or None if unusable.
    ``norm`` is ``normalize_name(raw)`` when the caller already has it."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return None
    if norm is None:
        norm = normalize_name(str(raw))
    if not _usable_name(norm):
        return None
    sur, given = split_name(norm)
    sur_syll = _surname_syllables(sur) if sur else ()
    given_syll = tuple(_syllables(given))
    given_sorted = " ".join(sorted(given_syll)) if sur and len(given) >= 2 else None
    return (norm, "".join(sur_syll + given_syll), sur or None, "".join(sur_syll) if sur else None, given or None,
            len(given), given_sorted, _shape_key(given) if sur else None)


def _normalize_names(values: list[str]) -> list[str]:
    """``normalize_name`` for many names at once: names made only of CJK unified ideographs (nearly all)
    are converted traditional → simplified in one OpenCC call; the rest go through ``normalize_name``."""
    plain = [i for i, v in enumerate(values) if v and all(0x4E00 <= ord(ch) <= 0x9FFF for ch in v)]
    out = [""] * len(values)
    if plain:
        converted = _t2s("\n".join(values[i] for i in plain)).split("\n")
        for i, c in zip(plain, converted):
            v = values[i]
            out[i] = v[0] + c[1:] if v[0] in _KEEP_TRADITIONAL_SURNAMES else c
    plain_set = set(plain)
    for i, v in enumerate(values):
        if i not in plain_set:
            out[i] = normalize_name(v)
    return out


_ID18 = re.compile(r"\d{17}[\dX]")
_ID15 = re.compile(r"\d{15}")


def id_features(raw: object) -> tuple | None:
    """(id17, check char or None, id14, division, birth date, sequence, "1" if an 18-character number whose
    check character is right else None) or None if absent/unusable (non-digits, wrong length)."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return None
    s = normalize_id(str(raw))
    if not (_ID18.fullmatch(s) or _ID15.fullmatch(s)):
        return None
    body, chk = id_body(s)
    ok = "1" if chk and check_char(body) == chk else None
    return body, (chk or None), body[:14], body[:6], body[6:14], body[14:], ok


def date_features(raw: object, today: date) -> tuple | None:
    """(dob ISO, day/month-swapped ISO or None, year, month, day, ordinal) or None if impossible."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return None
    ymd = parse_birth_date(raw if isinstance(raw, date) else str(raw))
    if ymd is None:
        return None
    y, m, d = ymd
    try:
        real = date(y, m, d)
    except ValueError:
        return None
    if y < _EARLIEST_BIRTH_YEAR or real > today:
        return None
    swap = None
    if d <= 12 and d != m:
        try:
            swap = date(y, d, m).isoformat()
        except ValueError:  # pragma: no cover - d <= 12 and m <= 31 always form a date with y
            swap = None
    return real.isoformat(), swap, y, m, d, real.toordinal()


def _phone_features(raw: object) -> tuple | None:
    """(digits, last 8, pieces 1–3, 4–7, 8–) or None if unusable."""
    s = str(raw)
    if not (s.isascii() and s.isdigit() and len(s) >= 7 and not s.startswith("86")):  # else the slow path
        s = normalize_phone(s)
        if not s:
            return None
    return s, (s[-8:] if len(s) >= 8 else None), s[:3], s[3:7], s[7:]


def _sex_features(raw: object) -> tuple | None:
    """(GB/T 2261.1 code "1"/"2", or None for 0 unknown / 9 unspecified) or None if unreadable."""
    code = normalize_sex(raw)
    if code:
        return (code,)
    return (None,) if str(raw).strip() in ("0", "9") else None


_TOWN = re.compile(r"[\u4e00-\u9fff]{1,8}?(?:镇|乡|街道)")
_VILLAGE = re.compile(r"[\u4e00-\u9fff]{1,8}?(?:村|社区|居委会|居民委员会)")
_PLACE = r"(?:(?![镇乡街村社组号])[\u4e00-\u9fff]){1,8}?"  # a place name that is not a township/village part
_ADMIN_PREFIX = re.compile(rf"^(?:{_PLACE}(?:省|自治区))?(?:{_PLACE}(?:自治州|地区|盟|市))?(?:{_PLACE}(?:县|区|旗))?")


def address_features(raw: object) -> tuple | None:
    """(normalised address, township name or None, village name or None) or None if blank.

    Province/city/county prefixes are dropped, so "某县城关镇王庄村3组" and "王庄村3组" share the village."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return None
    s = "".join(unicodedata.normalize("NFKC", str(raw)).split())
    if not s:
        return None
    rest = _ADMIN_PREFIX.sub("", s, count=1)
    town = None
    m = _TOWN.match(rest)
    if m:
        town = m.group(0)
        rest = rest[m.end():]
    v = _VILLAGE.match(rest)
    village = v.group(0) if v else None
    return rest if rest else s, town, village


# ---------------------------------------------------------------- the frame

def _mapped(series: pd.Series, fn: Callable[[object], tuple | None], columns: list[str]) -> tuple[pd.DataFrame, int, list]:
    """Apply ``fn`` once per distinct value and spread the answers over the rows (by factorised codes, not
    a Python loop over rows).  Returns the frame (``columns``; all None where blank or unusable), how many
    rows were unusable, and the distinct unusable values."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    empty = (None,) * len(columns)
    rows: list[tuple] = []
    bad_codes: list[int] = []
    for code, value in enumerate(uniques):
        if isinstance(value, str) and not value.strip():
            rows.append(empty)
            continue
        got = fn(value)
        if got is None:
            bad_codes.append(code)
            got = empty
        rows.append(got)
    rows.append(empty)  # code -1 (missing) takes the last row
    table = pd.DataFrame(rows, columns=columns, dtype=object)
    out = table.iloc[codes].reset_index(drop=True)
    n_bad = int(np.isin(codes, bad_codes).sum()) if bad_codes else 0
    return out, n_bad, [uniques[c] for c in bad_codes]


def build_features(frame: pd.DataFrame, *, today: date | None = None,
                   progress: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, Faults]:
    """The Splink input frame (``FEATURE_COLUMNS``) for a frame with ``INPUT_COLUMNS`` (any may be empty),
    and the data faults found.  ``address`` may be replaced by the registry's village/township codes:
    pass columns ``addr_town``/``addr_village`` already filled and they are kept."""
    today = today or date.today()
    faults = Faults()
    say = progress or (lambda _msg: None)
    out = pd.DataFrame({"unique_id": frame["record_id"].astype(str).to_numpy()})

    say("姓名 names")
    raw_names = [v for v in frame["name"].unique() if isinstance(v, str) and v.strip()]
    norms = dict(zip(raw_names, _normalize_names(raw_names)))
    names, n_bad, bad = _mapped(frame["name"], lambda v: name_features(v, norms.get(v)),
                                ["name_norm", "name_py", "sur", "sur_py", "given", "given_len", "given_sorted",
                                 "shape_key"])
    faults.add("name", n_bad, [str(b) for b in bad])
    names["given_len"] = names["given_len"].astype("Int64")

    say("身份证号 ID numbers")
    ids, n_bad, bad = _mapped(frame["id_number"], id_features, ["id17", "id_chk", "id14", "id_a", "id_b", "id_c",
                                                              "id_ok"])
    faults.add("id_number", n_bad, [str(b) for b in bad])

    say("出生日期 birth dates")
    dates, n_bad, bad = _mapped(frame["birth_date"], lambda v: date_features(v, today),
                                ["dob", "dob_swap", "by", "bm", "bd", "dob_days"])
    faults.add("birth_date", n_bad, [str(b) for b in bad])
    for col in ("by", "bm", "bd", "dob_days"):
        dates[col] = dates[col].astype("Int64")

    say("性别、电话 sex, phones")
    sex, n_bad, bad = _mapped(frame["sex"], _sex_features, ["sex"])
    faults.add("sex", n_bad, [str(b) for b in bad])
    phones, n_bad, bad = _mapped(frame["phone"], _phone_features, ["phone", "phone8", "ph_a", "ph_b", "ph_c"])
    faults.add("phone", n_bad, [str(b) for b in bad])

    say("住址 addresses")
    if "addr_village" in frame.columns:  # registry: division codes instead of parsed text
        addr = pd.DataFrame({"addr": frame["address"].to_numpy(), "addr_town": frame["addr_town"].to_numpy(),
                             "addr_village": frame["addr_village"].to_numpy()})
    else:
        addr, _, _ = _mapped(frame["address"], address_features, ["addr", "addr_town", "addr_village"])

    out = pd.concat([out, names, ids, dates, sex, phones, addr], axis=1)
    out = out[list(FEATURE_COLUMNS)]
    for c in FEATURE_COLUMNS:
        if c not in ("given_len", "by", "bm", "bd", "dob_days") and out[c].dtype != object:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out, faults
