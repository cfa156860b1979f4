"""Facts about Chinese personal names shared by identity matching, FHIR mapping and the synthetic
generator: compound surnames, surname readings that differ from the common one, and characters that are
easily confused in handwriting or OCR."""

from __future__ import annotations

#: Two-character surnames recognised by :func:`surname_of` (a superset of those
#: sampled: a real register contains rarer ones too).
COMPOUND_SURNAMES: frozenset[str] = frozenset((
    "欧阳", "上官", "司马", "诸葛", "尉迟", "东方", "皇甫", "令狐", "夏侯", "慕容",
    "万俟", "长孙", "公孙", "宇文", "端木", "独孤", "南宫", "闻人", "呼延", "轩辕",
    "澹台", "公冶", "太史", "申屠", "钟离", "宗政", "濮阳", "淳于", "单于", "司徒",
    "司空", "西门", "左丘", "拓跋", "百里", "东郭", "公羊", "谷梁", "第五", "赫连",
))

#: Surname readings that differ from the character's common reading (toneless
#: pinyin).  Several (任 华 纪 燕 过) differ only in tone but are listed because
#: naive converters get the tone wrong; the value is still the toneless syllable.
SURNAME_PINYIN_OVERRIDES: dict[str, str] = {
    "单": "shan", "曾": "zeng", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao",
    "尉迟": "yuchi", "查": "zha", "盖": "ge", "缪": "miao", "覃": "qin", "翟": "zhai",
    "祭": "zhai", "乐": "yue", "那": "na", "秘": "bi", "繁": "po", "黑": "he",
    "员": "yun", "阚": "kan", "种": "chong", "华": "hua", "任": "ren", "纪": "ji",
    "燕": "yan", "过": "guo", "万俟": "moqi", "长孙": "zhangsun", "令狐": "linghu",
    "澹台": "tantai", "单于": "chanyu", "都": "du", "宿": "su", "牟": "mou",
    "柏": "bai", "召": "shao", "乜": "nie", "句": "gou", "能": "nai", "隗": "wei",
    "冼": "xian", "薄": "bo", "车": "che", "尉": "wei", "长": "chang", "重": "chong",
}


_SHAPE_GROUPS = (
    "己已巳", "末未", "士土", "日曰", "王玉主", "大太犬", "人入", "天夭", "贝见",
    "田由甲申", "千干", "午牛", "候侯", "戊戌戍", "免兔", "鸟乌", "今令", "梁粱", "崇祟",
    "苟荀", "仓仑", "史吏", "徒徙", "即既", "侍待", "晴睛", "拔拨", "孤狐", "杨扬",
    "住往", "代伐", "冶治", "洒酒", "壁璧", "折拆", "幻幼", "祥样", "恩思", "若苦",
    "海诲", "水永", "昂昴", "暖暧", "岑芩", "森霖", "娃蛙", "乃及", "女如", "男勇",
    "二三", "诺偌", "然燃", "九丸", "斗升", "庚康", "丙两", "一二",
)


def _shape_table() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for group in _SHAPE_GROUPS:
        for c in group:
            table.setdefault(c, [])
            table[c].extend(x for x in group if x != c and x not in table[c])
    return {c: tuple(v) for c, v in table.items()}


#: Character → visually similar characters (handwriting / OCR confusions).
SIMILAR_SHAPE: dict[str, tuple[str, ...]] = _shape_table()


def surname_of(full_name: str) -> str:
    """The surname of ``full_name``: two characters if it starts with a compound
    surname (欧阳娜 → 欧阳) and at least one character remains, else one."""
    if len(full_name) >= 3 and full_name[:2] in COMPOUND_SURNAMES:
        return full_name[:2]
    return full_name[:1]
