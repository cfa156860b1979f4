"""Names: normalisation, pinyin with surname readings, name comparison levels, Jaro–Winkler.

Choices (read before changing):

* ``normalize_name`` is a superset of ``rhip.registry.rules.normalize_name``: NFKC
  (full-width → half-width, CJK compatibility ideographs such as U+F9E1 李 from
  Korean code pages → unified ideographs), zero-width/format characters dropped,
  whitespace dropped except one space between two Latin letters, traditional →
  simplified with OpenCC ``t2s``, every middle-dot look-alike → "·", upper case.
  The surname 於 is kept (t2s would turn it into 于, a different surname).
* Pinyin is toneless (pypinyin Style.NORMAL, ü written "v"), so there is no
  "same pinyin, different tone" level: 张丽/张莉/张力 all read "zhang li".
* Given-name characters are read one by one with their most common reading
  (no phrase dictionary): a typo in one character can never change how another
  character is read, and the same character always yields the same syllable.
* The surname (compound first, via ``rhip.kit.hanzi.surname_of``) is read with
  its surname reading from ``SURNAME_PINYIN_OVERRIDES`` (单 shan, 曾 zeng, 尉迟 yu chi).
* Names with a middle dot (transliterated minority/foreign names, 阿依古丽·买买提)
  and Latin-script names have no surname split: they can only be EXACT,
  SAME_PINYIN, DIFFERENT or MISSING (the similarity number still helps).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import product

from pypinyin import Style, pinyin

from rhip.mpi.rules_levels import NameLevel
from rhip.kit.hanzi import SIMILAR_SHAPE, SURNAME_PINYIN_OVERRIDES, surname_of

__all__ = [
    "normalize_name", "split_name", "name_pinyin", "pinyin_key", "initials_key",
    "compare_names", "name_similarity", "jaro_winkler",
]

_DOTS = frozenset("·•‧・∙⋅ㆍ᛫⸱･●")
_SOFT_DOTS = frozenset(".。")  # a dot only when it separates CJK characters
_KEEP_TRADITIONAL_SURNAMES = frozenset("於")
_OPENCC = None


def _t2s(text: str) -> str:
    global _OPENCC
    if _OPENCC is None:
        import opencc  # opencc 1.4.x (C++ wheel); opencc-python-reimplemented has the same API
        _OPENCC = opencc.OpenCC("t2s")
    return _OPENCC.convert(text)


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3134F
            or 0xF900 <= o <= 0xFAFF or ch == "〇")


def _is_latin(ch: str) -> bool:
    return ch.isalpha() and not _is_cjk(ch)


def normalize_name(raw: str | None) -> str:
    """The canonical form of a name as typed; "" for None/blank.  Idempotent."""
    if not raw:
        return ""
    s = unicodedata.normalize("NFKC", raw)
    s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\t\n\r")
    has_cjk = any(_is_cjk(ch) for ch in s)
    chars = []
    for ch in s:
        if ch in _DOTS or (has_cjk and ch in _SOFT_DOTS):
            ch = "·"
        chars.append(ch)
    # whitespace: one space between two Latin letters, nothing elsewhere
    out: list[str] = []
    pending_space = False
    for ch in chars:
        if ch.isspace():
            pending_space = True
            continue
        if pending_space and out and _is_latin(out[-1]) and _is_latin(ch):
            out.append(" ")
        pending_space = False
        out.append(ch)
    s = re.sub("·+", "·", "".join(out)).strip("·")
    if has_cjk:
        first = s[:1]
        s = _t2s(s)
        if first in _KEEP_TRADITIONAL_SURNAMES:
            s = first + s[1:]
    return s.upper()


def _has_surname(name: str) -> bool:
    return bool(name) and "·" not in name and _is_cjk(name[0])


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a normalised name; ("", name) when there is no surname split."""
    if not _has_surname(name):
        return "", name
    sur = surname_of(name)
    return sur, name[len(sur):]


@lru_cache(maxsize=65536)
def _char_reading(ch: str) -> str:
    """Most common toneless reading of one CJK character (pypinyin's first reading)."""
    return pinyin(ch, style=Style.NORMAL, heteronym=False, errors="default")[0][0].lower()


@lru_cache(maxsize=4096)
def _surname_syllables(surname: str) -> tuple[str, ...]:
    """Surname reading split into syllables: 单 → (shan,), 尉迟 → (yu, chi)."""
    joined = SURNAME_PINYIN_OVERRIDES.get(surname)
    if joined is None:
        return tuple(_char_reading(c) for c in surname)
    if len(surname) == 1:
        return (joined,)
    readings = [pinyin(c, style=Style.NORMAL, heteronym=True)[0] for c in surname]
    for combo in product(*readings):  # which per-character readings spell the surname reading
        if "".join(combo) == joined:
            return tuple(combo)
    return tuple(_char_reading(c) for c in surname)  # pragma: no cover - override table error


def _syllables(text: str) -> list[str]:
    """Per-character readings of CJK characters; runs of Latin letters/digits as lower-case words."""
    out: list[str] = []
    word: list[str] = []
    for ch in text:
        if _is_cjk(ch):
            if word:
                out.append("".join(word).lower())
                word = []
            out.append(_char_reading(ch))
        elif ch.isalnum():
            word.append(ch)
        elif word:  # space, dot, hyphen, apostrophe: word boundary
            out.append("".join(word).lower())
            word = []
    if word:
        out.append("".join(word).lower())
    return out


@lru_cache(maxsize=200_000)  # names repeat a lot; bulk indexing asks for every registration's pinyin
def name_pinyin(name: str | None) -> tuple[str, ...]:
    """Toneless pinyin syllables of a name, surname read as a surname.

    >>> name_pinyin("单田芳")
    ('shan', 'tian', 'fang')
    """
    n = normalize_name(name)
    sur, given = split_name(n)
    head = _surname_syllables(sur) if sur else ()
    return head + tuple(_syllables(given))


def pinyin_key(name: str | None) -> str:
    """Space-separated toneless pinyin, e.g. 张丽 → "zhang li"; "" for an empty name."""
    return " ".join(name_pinyin(name))


def initials_key(name: str | None) -> str:
    """First letter of every syllable, e.g. 张丽 → "zl", 欧阳娜娜 → "oynn"."""
    return "".join(s[0] for s in name_pinyin(name) if s)


def jaro_winkler(a: str, b: str, *, prefix_scale: float = 0.1) -> float:
    """Jaro–Winkler similarity in [0, 1] (common prefix up to 4 characters)."""
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    if not la or not lb:
        return 0.0
    window = max(max(la, lb) // 2 - 1, 0)
    used_b = [False] * lb
    matched_a: list[str] = []
    for i, ch in enumerate(a):
        for j in range(max(0, i - window), min(lb, i + window + 1)):
            if not used_b[j] and b[j] == ch:
                used_b[j] = True
                matched_a.append(ch)
                break
    m = len(matched_a)
    if not m:
        return 0.0
    matched_b = [b[j] for j in range(lb) if used_b[j]]
    transpositions = sum(x != y for x, y in zip(matched_a, matched_b)) / 2
    jaro = (m / la + m / lb + (m - transpositions) / m) / 3
    prefix = 0
    for x, y in zip(a[:4], b[:4]):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * prefix_scale * (1 - jaro)


def name_similarity(a: str | None, b: str | None) -> float:
    """Jaro–Winkler similarity of the two pinyin keys (0.0 if either name is missing).

    A continuous companion to :func:`compare_names` for scoring (e.g. Splink
    thresholds); homophones score 1.0.
    """
    ka, kb = pinyin_key(a), pinyin_key(b)
    if not ka or not kb:
        return 0.0
    return round(jaro_winkler(ka, kb), 6)


def _one_char_apart(ga: str, gb: str) -> bool:
    """Same length, exactly one position differs; for a one-character given name the two
    characters must look alike (SIMILAR_SHAPE: 己/已), else 王丽/王强 would count."""
    if len(ga) != len(gb) or not ga:
        return False
    diff = [(x, y) for x, y in zip(ga, gb) if x != y]
    if len(diff) != 1:
        return False
    if len(ga) >= 2:
        return True
    x, y = diff[0]
    return y in SIMILAR_SHAPE.get(x, ())


def compare_names(a: str | None, b: str | None) -> NameLevel:
    """The name comparison level (best first: EXACT … DIFFERENT, then MISSING).

    * EXACT — equal after :func:`normalize_name` (张丽 = 張麗 = "张 丽").
    * SAME_PINYIN — same toneless syllables (张丽/张莉, also 章丽/张丽).
    * SWAPPED_GIVEN — same surname (character or reading), given name of ≥2 characters
      with the same characters or syllables in another order (张丽华/张华丽).
    * ONE_CHAR_DIFFERENT_SAME_SURNAME — same surname, given names of equal length,
      exactly one character differs (张丽华/张丽军; one-character given names only
      when the characters look alike: 王己/王已).
    * SAME_SURNAME_ONLY, DIFFERENT, MISSING (either name blank).
    """
    na, nb = normalize_name(a), normalize_name(b)
    if not na or not nb:
        return NameLevel.MISSING
    if na == nb:
        return NameLevel.EXACT
    if name_pinyin(na) == name_pinyin(nb):
        return NameLevel.SAME_PINYIN
    sa, ga = split_name(na)
    sb, gb = split_name(nb)
    if not sa or not sb:
        return NameLevel.DIFFERENT
    if sa != sb and _surname_syllables(sa) != _surname_syllables(sb):
        return NameLevel.DIFFERENT
    if len(ga) == len(gb) >= 2 and (
            sorted(ga) == sorted(gb) or sorted(_syllables(ga)) == sorted(_syllables(gb))):
        return NameLevel.SWAPPED_GIVEN
    if _one_char_apart(ga, gb):
        return NameLevel.ONE_CHAR_DIFFERENT_SAME_SURNAME
    return NameLevel.SAME_SURNAME_ONLY

