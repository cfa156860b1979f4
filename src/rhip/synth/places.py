"""Deterministic Chinese place names for the synthetic county.

Township-level units (乡级): the county seat's 城关镇 first, then names built the
way real ones are — a surname plus a market/settlement word (杨集镇, 李店乡), a
landscape description (白塔乡, 龙泉镇), or a landmark (龙王庙乡, 十里铺镇).
Village-level units (村级): 村民委员会 names (王庄村, 李家湾村, 大刘营村,
红星村, 东岗村, 柳树沟村) and, in the town seat, 居民委员会 / 社区 names
(东关社区, 建设路社区).  Addresses use the villager group (组): 王庄村3组27号.

Codes are the caller's business, but follow the statistical division code
(统计用区划代码, 12 digits = county code 6 + township 3 + village 3):

* township 3 digits: 001–099 街道 (sub-district), **100–199 镇 (town)**,
  **200–399 乡 (township)**, 400–599 township-like units (开发区, 农场 …);
* village 3 digits: 001–199 居民委员会 (社区), 200–399 村民委员会 (村),
  400–599 village-like units.

So a caller numbers the ``"town"`` entries returned by :func:`township_names`
100, 101, … and the ``"township"`` entries 200, 201, …; communities 001, 002, …
and villages 200, 201, … within each township.

Every function draws only from the ``random.Random`` it is given and never
iterates over a set, so the same seed gives the same names.  Standard library only.
"""

from __future__ import annotations

import random
from bisect import bisect_right

from rhip.synth.names import SURNAMES

__all__ = [
    "TOWNSHIP_CODE_RANGES", "VILLAGE_CODE_RANGES",
    "township_names", "village_names", "community_names", "street_address",
]

#: kind → inclusive range of the 3-digit township code (统计用区划代码).
TOWNSHIP_CODE_RANGES: dict[str, tuple[int, int]] = {
    "subdistrict": (1, 99), "town": (100, 199), "township": (200, 399), "other": (400, 599),
}
#: kind → inclusive range of the 3-digit village-level code.
VILLAGE_CODE_RANGES: dict[str, tuple[int, int]] = {
    "community": (1, 199), "village": (200, 399), "other": (400, 599),
}

_CN_NUM = "一二三四五六七八九十"
_MAX_TRIES = 400  # per name, before falling back to numbered variants

# Common single-character surnames (top 80), weighted: villages and market
# towns are named after the lineages that founded them.
_PLACE_SURNAMES = tuple(s for s, _ in SURNAMES[:80] if len(s) == 1)


def _cum(weights) -> tuple[float, ...]:
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return tuple(x / acc for x in out[:-1]) + (1.0,)


# Flatten the weights a little (sqrt): place names are less concentrated than people.
_PLACE_SURNAME_CUM = _cum(w ** 0.5 for s, w in SURNAMES[:80] if len(s) == 1)


def _surname(rng: random.Random) -> str:
    return _PLACE_SURNAMES[bisect_right(_PLACE_SURNAME_CUM, rng.random())]


def _pick(rng: random.Random, items: tuple[str, ...]) -> str:
    return items[int(rng.random() * len(items))]


# ---------------------------------------------------------------------------
# Townships
# ---------------------------------------------------------------------------

_TOWN_SURNAME_SUFFIX = tuple("集店庄营寨楼桥湖圩铺岗坊屯堡口河湾")
_TOWN_DESCRIPTIVE = (
    "白塔", "龙泉", "石桥", "青山", "柳林", "马坊", "双河", "三河", "新集", "高庙", "桃园",
    "清水", "长岭", "红石", "黄土", "白沙", "金山", "银山", "官庄", "古城", "新店", "河口",
    "东湖", "西湖", "南湖", "北湖", "东岭", "西岭", "大桥", "小河", "沙河", "黑石", "青龙",
    "白马", "凤凰", "卧龙", "盘石", "太平", "永安", "兴隆", "安乐", "长乐", "永丰", "丰乐",
    "新安", "仁和", "永和", "临河", "枣林", "梨园", "杏花", "桑园", "槐树", "松林", "竹园",
    "莲花", "荷花", "石门", "铁炉", "金牛", "玉泉", "温泉", "龙潭", "白云", "望城", "龙山",
    "虎山", "鹿鸣", "马鞍", "牛头", "羊山", "鸡鸣", "花园", "高桥", "长林", "大营", "石庙",
    "土桥", "砖桥", "平原", "新庄", "老庄", "河坊", "双庙", "三官", "柏树", "界牌", "铺头",
)
_TOWN_LANDMARK = (
    "龙王庙", "土地庙", "关帝庙", "老君堂", "十里铺", "三里河", "八里桥", "五里墩", "大王庄",
    "五道沟", "二郎庙", "娘娘庙", "七里店", "双庙集", "三官庙", "马王庙", "火神庙", "三岔口",
    "十字路", "柳树店", "杨树湾", "黄泥岗", "白果树", "石门坎", "高皇庙", "孤山寺", "回龙湾",
    "九里岗", "二十里铺", "四十里铺",
)


# surname + suffix combinations that read as ordinary words, not places
_TOWN_AVOID = frozenset(("江湖", "江河", "金店"))


def _township_base(rng: random.Random) -> str:
    x = rng.random()
    if x < 0.45:
        base = _surname(rng) + _pick(rng, _TOWN_SURNAME_SUFFIX)
        return _pick(rng, _TOWN_DESCRIPTIVE) if base in _TOWN_AVOID else base
    if x < 0.85:
        return _pick(rng, _TOWN_DESCRIPTIVE)
    return _pick(rng, _TOWN_LANDMARK)


def township_names(rng: random.Random, n: int, *, town_share: float = 0.55) -> list[tuple[str, str]]:
    """``n`` unique township-level names as ``(name, kind)``, kind ``"town"`` (…镇)
    or ``"township"`` (…乡).  The first is always ``("城关镇", "town")``; about
    ``town_share`` of the rest are towns.  See the module docstring for codes."""
    if n <= 0:
        return []
    out: list[tuple[str, str]] = [("城关镇", "town")]
    bases: set[str] = {"城关"}
    while len(out) < n:
        for _ in range(_MAX_TRIES):
            base = _township_base(rng)
            if base not in bases:
                break
        else:
            raise ValueError(f"cannot make {n} unique township names")
        bases.add(base)
        if rng.random() < town_share:
            out.append((base + "镇", "town"))
        else:
            out.append((base + "乡", "township"))
    return out


# ---------------------------------------------------------------------------
# Villages and communities
# ---------------------------------------------------------------------------

# (suffix, weight) after a surname: 王庄, 李家湾, 刘营 …
_VILLAGE_SURNAME_SUFFIX = (
    ("庄", 10), ("家庄", 5), ("营", 4), ("楼", 4), ("寨", 4), ("集", 2), ("屯", 2), ("堡", 2),
    ("家湾", 3), ("家沟", 3), ("家洼", 2), ("家店", 2), ("家坪", 2), ("家岭", 2), ("家河", 2),
    ("家坡", 2), ("家台", 1), ("家园", 1), ("家桥", 1), ("家冲", 1), ("家岗", 1), ("家塘", 1),
    ("圩", 1), ("窑", 1), ("湾", 2), ("桥", 1), ("岗", 2), ("洼", 1), ("坊", 1), ("庙", 1),
    ("台", 1), ("铺", 1), ("园", 1), ("店", 2), ("河", 1), ("沟", 1),
)
_VSS = tuple(s for s, _ in _VILLAGE_SURNAME_SUFFIX)
_VSS_CUM = _cum(w for _, w in _VILLAGE_SURNAME_SUFFIX)
_VILLAGE_PREFIX = tuple("大小前后东西南北上下新老")
_VILLAGE_COLLECTIVE = (
    "红星", "前进", "胜利", "新华", "光明", "团结", "和平", "友谊", "东风", "红旗", "建设",
    "先锋", "幸福", "联合", "新农", "新民", "民主", "丰收", "永丰", "太平", "长兴", "兴隆",
    "联盟", "五星", "群英", "红光", "跃进", "东方红", "向阳", "朝阳", "解放", "新风", "新生",
    "卫星", "立新", "共和", "民生", "富强", "振兴", "繁荣", "和谐", "同心", "红卫", "东升",
    "永安", "永红", "新春", "新建", "光辉", "胜天", "爱民", "红岩", "星火", "火炬", "曙光",
)
_VILLAGE_DIRECTION = tuple("东西南北前后上下中")
_VILLAGE_FEATURE = tuple("岗河湾坡庄沟洼寨营关街岭台山堡林塘滩圩坪")
_VILLAGE_NATURE_HEAD = (
    "柳树", "杨树", "槐树", "枣树", "梨树", "桃树", "榆树", "松树", "桑树", "柏树", "椿树",
    "石", "白石", "黄土", "青石", "红土", "白沙", "黑石", "马", "牛", "羊", "龙", "凤", "鹿",
    "虎", "双", "三", "头道", "二道", "三道", "十里", "三里", "五里", "七里", "八里",
    "石门", "水", "清水", "泉", "荷花", "芦", "竹", "桃花", "杏", "瓦", "砖", "铁", "金", "银",
    "高", "长", "平", "圆", "团", "月", "黄", "青", "白", "红",
)
_VILLAGE_NATURE_TAIL = tuple("沟岭园林坡河湾洼岗桥坪峪口庄冲塘井泉台山寨屯铺墩")


def _village_base(rng: random.Random) -> str:
    x = rng.random()
    if x < 0.50:
        s = _surname(rng)
        suffix = _VSS[bisect_right(_VSS_CUM, rng.random())]
        if rng.random() < 0.18:
            return _pick(rng, _VILLAGE_PREFIX) + s + suffix
        return s + suffix
    if x < 0.62:
        return _pick(rng, _VILLAGE_COLLECTIVE)
    if x < 0.78:
        d = _pick(rng, _VILLAGE_DIRECTION)
        f = _pick(rng, _VILLAGE_FEATURE)
        if f in ("庄", "寨", "营", "街", "堡", "屯") and rng.random() < 0.5:
            return d + _surname(rng) + f  # 东刘庄, 后王营
        return d + f
    return _pick(rng, _VILLAGE_NATURE_HEAD) + _pick(rng, _VILLAGE_NATURE_TAIL)


def _unique_names(rng: random.Random, n: int, used: set[str], base_fn, suffix: str) -> list[str]:
    out: list[str] = []
    for _ in range(n):
        for _ in range(_MAX_TRIES):
            name = base_fn(rng) + suffix
            if name not in used:
                break
        else:
            # Saturated: number a base that is already taken (王庄一村, 城东二社区).
            name = ""
            for _ in range(_MAX_TRIES):
                base = base_fn(rng)
                for num in _CN_NUM:
                    cand = base + num + suffix
                    if cand not in used:
                        name = cand
                        break
                if name:
                    break
            if not name:
                raise ValueError(f"cannot make {n} unique names ending in {suffix}")
        used.add(name)
        out.append(name)
    return out


def village_names(rng: random.Random, n: int, *, used: set[str]) -> list[str]:
    """``n`` village (村民委员会) names ending in 村, none already in ``used``;
    ``used`` is updated, so share one set across the county for uniqueness."""
    return _unique_names(rng, n, used, _village_base, "村")


_COMMUNITY_PLACE = (
    "东关", "西关", "南关", "北关", "城东", "城西", "城南", "城北", "东街", "西街", "南街",
    "北街", "中街", "东城", "西城", "新城", "老城", "鼓楼", "钟楼", "文庙", "府前", "站前",
    "滨河", "河西", "河东", "花园", "龙泉", "锦绣", "阳光", "幸福", "育才", "书院", "文昌",
    "康乐", "兴华", "迎宾", "工业园", "桥东", "桥西", "南苑", "北苑", "东苑", "西苑",
)
_ROAD_HEAD = (
    "建设", "人民", "解放", "文化", "中山", "和平", "新华", "光明", "胜利", "团结", "育才",
    "复兴", "振兴", "迎宾", "健康", "民主", "前进", "朝阳", "向阳", "长安", "青年", "工农",
    "友谊", "文明", "东风", "红旗", "富民", "商贸", "车站", "体育", "学府", "滨河", "环城",
)
_ROAD_TAIL = ("路", "路", "路", "街", "街", "大道")


def _community_base(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return _pick(rng, _COMMUNITY_PLACE)
    return _pick(rng, _ROAD_HEAD) + _pick(rng, _ROAD_TAIL)


def community_names(rng: random.Random, n: int, used: set[str]) -> list[str]:
    """``n`` residents' committee (社区) names for the town seat, e.g. 东关社区,
    建设路社区; unique against and added to ``used``."""
    return _unique_names(rng, n, used, _community_base, "社区")


# ---------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------


def street_address(rng: random.Random, village_name: str) -> str:
    """A household address in ``village_name``: ``王庄村3组27号`` (组 = villager
    group).  For a 社区 it is a flat: ``建设路社区5号楼2单元301室``."""
    r = rng.random
    if village_name.endswith("社区"):
        building = 1 + int(r() * 24)
        unit = 1 + int(r() * 4)
        floor = 1 + int(r() * 6)
        room = 1 + int(r() * 3)
        return f"{village_name}{building}号楼{unit}单元{floor}{room:02d}室"
    # 1–12 groups; smaller villages are commoner, so skew towards low numbers.
    group = 1 + int(12 * r() * r() ** 0.5)
    number = 1 + int(r() * 80)
    if village_name.endswith("村"):
        return f"{village_name}{group}组{number}号"
    return f"{village_name}{number}号"
