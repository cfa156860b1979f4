"""Realistic Chinese personal names for the synthetic county population.

* ``SURNAMES`` — ~300 surnames with relative frequencies per 10,000 people, in the
  order of the 2020 census ranking (王 李 张 刘 陈 …), explicit values for the top
  100 and a Zipf-like tail, plus a handful of compound surnames (欧阳 上官 …) at
  low frequency.
* ``SURNAME_PINYIN_OVERRIDES`` — surnames read differently from the character's
  common reading (单 shan, 曾 zeng, 解 xie, 区 ou, 朴 piao …), for pinyin matching.
* Given names of one or two characters, drawn from weighted character pools that
  depend on sex and birth year: a mixture of naming "styles" (old rural,
  collectivist 1950s–70s, reform era 1970s–90s, 2000s+, plus a long tail) whose
  weights are interpolated between anchor years, so fashions fade in and out
  rather than switching at decade boundaries.  A share of two-character names
  comes from lists of period-typical whole names (秀英, 建国, 婷婷, 子轩 …), which
  gives the realistic concentration of the commonest names.
* ``NameSampler.homophone_variant`` — the same person's name as mistyped by a
  pinyin input method (张丽→张莉, 王伟→王玮), or failing that a similar-looking or
  traditional character (as from handwriting or OCR).

Everything is precomputed at import into module-level tuples of cumulative
weights; sampling is ``bisect`` on ``rng.random()``, about 1 µs per full name.
Deterministic given the ``random.Random`` passed in.  Standard library only.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from itertools import accumulate

from rhip.kit.hanzi import COMPOUND_SURNAMES, SIMILAR_SHAPE, SURNAME_PINYIN_OVERRIDES, surname_of

__all__ = [
    "SURNAMES", "COMPOUND_SURNAMES", "SURNAME_PINYIN_OVERRIDES", "PINYIN_GROUPS",
    "HOMOPHONES", "SIMILAR_SHAPE", "TRADITIONAL", "MIN_YEAR", "MAX_YEAR",
    "NameSampler", "surname_of", "given_name_chars",
]

# ---------------------------------------------------------------------------
# Surnames
# ---------------------------------------------------------------------------

#: Explicit frequencies (per 10,000) of the 100 commonest surnames, census order.
#: The whole table sums to ~9,600: the rest of the population carries rarer
#: surnames, which the sampler folds proportionally into these.
_TOP_SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 710), ("李", 700), ("张", 670), ("刘", 540), ("陈", 450),
    ("杨", 310), ("黄", 220), ("赵", 200), ("吴", 198), ("周", 190),
    ("徐", 158.4), ("孙", 153.6), ("马", 146.4), ("朱", 141.6), ("胡", 138),
    ("郭", 133.2), ("何", 126), ("林", 120), ("高", 117.6), ("罗", 110.4),
    ("郑", 102), ("梁", 96), ("谢", 90), ("宋", 84), ("唐", 81.6),
    ("许", 78), ("韩", 75.6), ("邓", 73.2), ("冯", 70.8), ("曹", 68.4),
    ("彭", 66), ("曾", 63.6), ("肖", 62.4), ("田", 61.2), ("董", 60),
    ("潘", 56.4), ("袁", 55.2), ("蔡", 52.8), ("蒋", 51.6), ("余", 50.4),
    ("于", 49.2), ("杜", 48), ("叶", 46.8), ("程", 45.6), ("魏", 44.4),
    ("苏", 43.2), ("吕", 42), ("丁", 40.8), ("任", 39.6), ("卢", 38.4),
    ("姚", 37.2), ("沈", 36), ("钟", 35.4), ("姜", 34.8), ("崔", 33.6),
    ("谭", 32.4), ("陆", 31.8), ("范", 31.2), ("汪", 30), ("廖", 29.4),
    ("石", 28.8), ("金", 28.2), ("韦", 27.6), ("贾", 27), ("夏", 26.4),
    ("付", 25.8), ("方", 25.2), ("邹", 24.6), ("熊", 24), ("白", 23.4),
    ("孟", 22.8), ("秦", 22.2), ("邱", 21.6), ("侯", 21), ("江", 20.4),
    ("尹", 19.8), ("薛", 19.2), ("闫", 18.6), ("段", 18), ("雷", 17.8),
    ("龙", 17.4), ("黎", 17), ("史", 16.8), ("陶", 16.4), ("贺", 16.1),
    ("毛", 15.6), ("郝", 15.2), ("顾", 14.9), ("龚", 14.5), ("邵", 14.2),
    ("万", 13.8), ("覃", 13.4), ("武", 13.2), ("钱", 12.8), ("戴", 12.5),
    ("严", 12.2), ("洪", 12), ("莫", 11.8), ("孔", 11.5), ("向", 11.3),
)

#: Ranks 101+ in (approximate) census order; weight 10·(101/rank)^1.1 per 10,000.
_TAIL_SURNAMES = (
    "欧汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申耿关兰焦俞左柳甘"
    "祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华"
    "喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜"
    "冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞"
    "敖巩明佘池查麻苑迟邝楚郁晋习巴牧隆衡邸竺蔺扈冀郜盖乐那燕过鄢漆揭练帅原粟"
    "晁伏门代幸冼官鞠但银花危谈芮权逯蔚双郗胥储满井汝展茅强贝雍綦黑员阚种"
)

#: Rare but required surnames with explicit weights (per 10,000).
_RARE_SURNAMES: tuple[tuple[str, float], ...] = (
    ("区", 0.4), ("朴", 0.6), ("秘", 0.05), ("祭", 0.05), ("繁", 0.05),
    ("欧阳", 5.0), ("上官", 0.4), ("司马", 0.3), ("诸葛", 0.2), ("皇甫", 0.2),
    ("夏侯", 0.1), ("慕容", 0.1), ("东方", 0.1), ("令狐", 0.1), ("尉迟", 0.05),
)


def _build_surnames() -> tuple[tuple[str, float], ...]:
    table = list(_TOP_SURNAMES)
    rank = len(table)
    for ch in _TAIL_SURNAMES:
        rank += 1
        table.append((ch, round(10.0 * (101 / rank) ** 1.1, 3)))
    table.extend(_RARE_SURNAMES)
    names = [s for s, _ in table]
    if len(names) != len(set(names)):  # pragma: no cover - data error
        dup = sorted({s for s in names if names.count(s) > 1})
        raise AssertionError(f"duplicate surnames: {dup}")
    return tuple(table)


#: (surname, relative frequency per 10,000).  Weights need not sum to 10,000.
SURNAMES: tuple[tuple[str, float], ...] = _build_surnames()

_COMPOUND_HEADS: frozenset[str] = frozenset(c[0] for c in COMPOUND_SURNAMES)

_SURNAME_CHARS: tuple[str, ...] = tuple(s for s, _ in SURNAMES)


def _cum(weights) -> tuple[float, ...]:
    """Cumulative weights normalised to end at exactly 1.0 (bisect on random())."""
    acc = list(accumulate(weights))
    total = acc[-1]
    out = [a / total for a in acc]
    out[-1] = 1.0
    return tuple(out)


_SURNAME_CUM: tuple[float, ...] = _cum(w for _, w in SURNAMES)

# ---------------------------------------------------------------------------
# Given names: styles, eras, pools
# ---------------------------------------------------------------------------

# Each style: first-position chars, second-position chars, chars used as a
# one-character given name, and whole two-character names; strings are ordered
# by popularity (Zipf weights 1/(rank+k)^s).  Duplicates keep the first rank.
_STYLES: dict[str, dict[str, str]] = {
    # --- men -------------------------------------------------------------
    "m_old": {  # traditional rural, born before ~1955
        "first": "德福金长永玉春成文万连秀茂庆宝振占广洪殿树恩富贵有世学寿书绍兆天守良"
                 "忠仁义保明顺双来根发士克吉瑞鸿凤锡景祖荣汉延继喜云全怀兴俊清桂廷维"
                 "登进家仲耀正启汝培财中海青存满新元乃开志和秋冬会立百友贤善光铁银爱"
                 "二三四五六七九小丙庚炳",
        "second": "生福才山林贵祥荣财发海清元田堂和中臣修昌奎魁禄喜根宝全明德成义仁亭"
                  "章春英云廷文武江泉河礼信顺安平旺铭善贤玉金银水保富有良友忠孝恩盛宽"
                  "厚高升录兴柱松岭峰尧舜周启仓斗锁森科芳",
        "single": "福山林贵祥荣财发生海清元才德成义明春田全旺喜根宝",
        "whole": "福生 有才 长林 金山 德胜 玉林 长福 金贵 福林 永福 富贵 宝山 有福 来福 "
                 "根生 福来 喜来 德福 长生 金生 春生 水生 有根 德明 玉山 万福 永祥 双喜 "
                 "广生 占魁 殿臣 树林 恩德 宝贵 满仓 铁柱 锁柱 福田 长顺 金福 玉成 文明",
    },
    "m_rev": {  # collectivist era, ~1950–1975
        "first": "建国志红卫东爱新永立振胜跃向继学前光文玉庆长海金小树春宏洪俊德利秋冬"
                 "风先兴保军明世运晓宪忠炳铁石宝福成云连荣广",
        "second": "国华民军平兵东明红林伟强生忠党新进峰荣成斌良杰刚英武光辉彬波勇亮涛"
                  "泉山海清文祥春胜利权全卫兴旺发中庆安宏江奎宇",
        "single": "军伟强兵平东明红勇刚斌杰涛林峰波亮辉武华群新超",
        "whole": "建国 建华 建军 国庆 卫东 卫国 红兵 志强 志刚 援朝 跃进 胜利 解放 建平 "
                 "国华 建设 向阳 东风 卫兵 爱国 爱民 新民 立新 学军 国强 建新 建明 国平 "
                 "红军 卫红 振华 振兴 建林 建成 国栋 国良 永红 东升 抗美 跃华",
    },
    "m_reform": {  # reform era, ~1970–1995
        "first": "志建海小俊晓文永国鹏云春宏红振家金立中德明洪光长伟新剑卫少学天子佳亚"
                 "兴玉双雪向宇晨旭博浩一嘉锦泽凯瑞鸿思世庆青飞雨铁松兆延义正良",
        "second": "伟强磊军勇杰涛斌超刚辉鹏飞波平华明峰林亮兵龙东锋宇俊浩健彬凯鑫阳博"
                  "森坤江翔帅雷毅成松岩宁伦振鸣哲文武旭晨宏辰滨彪虎胜勋坚卓锐骏鹤楠栋"
                  "梁川洋岭阔",
        "single": "伟强磊军勇杰涛斌超刚辉鹏飞波平华明峰林亮兵龙东锋宇俊浩健彬凯鑫阳博"
                  "森坤江翔帅雷毅成松岩宁伦洋",
        "whole": "志强 海涛 晓东 俊杰 文杰 建伟 小龙 晓明 海波 志勇 志伟 建波 晓峰 海军 "
                 "国伟 永强 文博 鹏飞 云飞 晓军 海峰 建峰 振宇 宏伟 伟强 金龙 春雷 俊峰 "
                 "志鹏 明亮 志明 晓伟 海龙 文斌 家豪 子豪 国栋 振东 小军 小伟",
    },
    "m_modern": {  # 2000s onwards
        "first": "子梓浩宇俊一思博家嘉锦天文明皓睿泽雨佳奕铭煜晨沐承景志昊晓逸书星清亦"
                 "鸿若君安宸辰航懿瑞振伟峻晟凯诚弘旭致恩钧宏泓元卓正豪熙炎鑫语宁云",
        "second": "轩涵宇豪杰睿博昊泽铭航晨然辰诺阳霖宸瑞杨凯鑫浩翔熙源恒楷彬文澄琛川"
                  "烨骏哲洋程硕烁锐毅扬帆尧乐晗栋林鸣宏远安成诚峰逸麟灏皓琦奇霆言桐康"
                  "煊",
        "single": "浩宇轩睿博昊泽铭航晨然辰诺阳霖宸瑞杨凯鑫翔熙源恒楷哲洋硕烁锐毅扬帆"
                  "尧乐灏",
        "whole": "子轩 浩宇 浩然 宇轩 梓轩 俊熙 一鸣 子豪 宇航 皓轩 子墨 梓睿 浩轩 睿泽 "
                 "雨泽 沐辰 梓豪 思远 博文 一诺 奕辰 宇泽 承泽 俊宇 子恒 子涵 铭轩 锦程 "
                 "天佑 明轩 嘉豪 昊然 梓涵 家乐 思源 浩铭 博涵 梓晨 宇辰 明哲",
    },
    "m_tail": {  # long tail of masculine name characters, all eras
        "first": "昌盛隆达通聪勤朴恭宽敬远耀显占焕炜玮琨瑜璋瑾璞钊铎钰锦铮钦铠钧铸锡"
                 "桦栋森桐柏松槐樟楷棣杭椿彬枫柯渊源澜沛洲溪沁浚淳湘沅浦河江汉淮济洛"
                 "晖晗晟昶昱晔暄曦昊旻昆煜炎焱烨熠焕炫炳照熙亮朗彦雄英豪毅刚健康泰祥"
                 "嘉善恒孝廉谦鼎岳峻崇岩巍嵩峰阔乾坤震霆雷鹤鹏翔骏驰腾飞胜利凯捷冠"
                 "祖宗子卓洲舟仲忠中致治志直知之正镇振哲兆章展增泽运云跃岳苑远源元裕玉雨宇"
                 "佑有友勇永应英银逸益毅艺义一业耀彦亚勋学轩旭秀修雄星兴信新孝翔祥显贤喜熙"
                 "希武文伟维威旺万同廷田天嵩松思顺双树舒书寿守仕世士时诗圣胜绍尚善山森润瑞"
                 "荣仁泉全秋庆清青勤钦强乾谦启朴平鹏培宁年南木默鸣铭明敏民茂洛伦禄龙隆令麟"
                 "霖林亮良利立礼黎磊坤奎宽克可康凯骏俊君钧久九靖敬景经京晋进锦金杰江健建坚"
                 "嘉家继吉基惠辉焕怀华厚鸿洪宏弘恒和浩翰汉海国桂贵广功耕高刚富甫福奉锋峰丰"
                 "飞方帆恩铎栋东鼎迪登德道丹达聪淳春传川楚崇驰澄承成晨超长昌博伯波炳斌彬宝"
                 "邦安",
        "second": "昌盛隆达通聪勤朴恭宽敬远耀显焕炜玮琨瑜璋瑾璞钊铎钰锦铮钦铠钧铸锡桦"
                  "栋森桐柏松槐樟楷棣杭椿枫柯渊源澜沛洲溪沁浚淳湘沅浦河汉淮济洛晖晟昶"
                  "昱晔暄曦旻昆煜炎焱烨熠焕炫炳照朗彦雄英豪健康泰祥嘉善恒孝廉谦鼎岳峻"
                  "崇岩巍嵩阔乾坤震霆鹤驰腾凯捷冠铭钢铁城堂春秋冬夏礼智信德仁义勇"
                  "安邦宝彬斌炳波伯博昌长超晨成承澄驰崇楚川传春淳聪达丹道德登迪鼎东栋铎恩帆"
                  "方飞丰峰锋奉福甫富刚高耕功广贵桂国海汉翰浩和恒弘宏洪鸿厚华怀焕辉惠基吉继"
                  "家嘉坚建健江杰金锦进晋京经景敬靖九久钧君俊骏凯康可克宽奎坤磊黎礼立利良亮"
                  "林霖麟令隆龙禄伦洛茂民敏明铭鸣默木南年宁培鹏平朴启谦乾强钦勤青清庆秋全泉"
                  "仁荣瑞润森山善尚绍胜圣诗时士世仕守寿书舒树双顺思松嵩天田廷同万旺威维伟文"
                  "武希熙喜贤显祥翔孝新信兴星雄修秀旭轩学勋亚彦耀业一义艺毅益逸银英应永勇友"
                  "有佑宇雨玉裕元源远苑岳跃云运泽增展章兆哲振镇正之知直志治致中忠仲舟洲卓子"
                  "宗祖",
        "single": "伟强军勇杰涛斌超刚辉鹏飞波平华明峰林亮兵龙东锋宇俊浩健彬凯鑫阳博森坤"
                  "江翔帅雷毅成松岩宁伦洋锐磊晨昊源达坚彪虎琦晖炜玮琨钊铮楷桐杭柯渊",
        "whole": "",
    },
    # --- women -----------------------------------------------------------
    "f_old": {
        "first": "秀桂玉凤淑翠金素春月兰彩美银巧爱秋小冬二桃荷梅菊莲喜招来引改顺芝香"
                 "珍娥云树宝福荣花贵明德雪",
        "second": "英兰珍芳花荣云凤华梅琴香莲菊霞娥枝芝仙贞妹秀娟娣妞叶环清芬翠玲珠娇"
                  "女",
        "single": "英兰珍芳花荣云凤梅琴香莲菊霞娥芝仙贞秀娟翠玲珠",
        "whole": "秀英 桂英 秀兰 玉兰 桂兰 秀珍 凤英 玉珍 玉英 淑珍 翠兰 桂芳 凤兰 金凤 "
                 "秀芳 桂珍 玉芳 淑英 玉梅 秀云 桂香 秀荣 春花 桂花 秋菊 冬梅 兰英 凤芝 "
                 "玉凤 金兰 素珍 淑兰 招娣 来娣 引弟 改花 彩霞 月英 翠花 巧云",
    },
    "f_rev": {
        "first": "秀桂玉淑凤金丽红小春建爱秋海美翠雪冬晓素月彩艳文英亚卫学新立志向东",
        "second": "英兰芳珍华梅霞红琴萍平荣云香玲娟凤敏莲花燕群芬洁菊丽艳君青琼娥",
        "single": "英兰芳珍梅霞红琴萍平荣云香玲娟凤敏燕群芬洁丽艳华",
        "whole": "秀英 桂芳 红梅 丽华 建华 玉梅 秀梅 爱华 红霞 秀芳 玉华 丽萍 桂英 春梅 "
                 "海燕 红英 小红 卫红 秀珍 美华 丽娟 亚娟 晓红 雪梅 玉红 爱玲 素芳 桂荣 "
                 "冬梅 红艳 凤霞 学英 淑华 玉兰 金花 彩云 国英 美玲 建英 秀华",
    },
    "f_reform": {
        "first": "丽小晓海艳春秀玉雪静美红金燕亚雅慧佳婷文秋冬丹彩月晶明惠思梦梅玲莉"
                 "少立志新宏颖欣雨",
        "second": "丽静敏燕艳娟婷娜洁慧颖倩琳雪芳霞玲萍丹红梅英华妮莉蓉琴瑶蕾薇欣璐露"
                  "佳宁菲凤云君晶莹娇媛娅茜琼岚虹",
        "single": "丽静敏芳燕娜艳娟婷洁慧颖倩琳雪霞玲萍丹红梅英华妮莉蓉琴瑶蕾薇欣璐露"
                  "佳宁菲晶莹媛",
        "whole": "丽娟 晓燕 海燕 丽丽 婷婷 晓丽 小燕 艳红 静静 晓红 晓梅 丽萍 春燕 晓婷 "
                 "雪梅 丹丹 秀丽 佳佳 晶晶 莹莹 倩倩 娟娟 美玲 晓静 艳丽 亚楠 雅婷 文静 "
                 "欢欢 慧敏 玉洁 丽君 晓娟 思思 佳慧 梦瑶 慧娟 雪莹 欣欣 婉婷",
    },
    "f_modern": {
        "first": "欣梓子雨思佳可梦诗一语依嘉雅紫心若馨芷沐安晓艺书乐婉悦涵奕静清锦舒"
                 "亦映秋芯芊晨星甜如慧淑",
        "second": "怡萱涵琪悦彤馨妍然琳瑶雯婷淇菲蕊冉桐诺茜颖溪希宁晴岚熙玥璇洁月茹嫣"
                  "娜佳媛钰乐淼汐萌曦瑾依琦漫卿楠昕露蔓云",
        "single": "怡萱涵琪悦彤馨妍然琳瑶雯婷菲蕊冉桐诺茜颖溪希宁晴岚熙玥璇洁月茹嫣娜"
                  "媛钰汐萌曦瑾依楠昕",
        "whole": "梓涵 欣怡 子涵 诗涵 雨涵 可馨 梦琪 一诺 紫涵 语桐 雨桐 欣妍 思涵 若汐 "
                 "依诺 梓萱 佳怡 雨萱 语嫣 芷若 可欣 诗琪 思琪 梦瑶 欣悦 雅琪 佳琪 沐晨 "
                 "安琪 心怡 梓琪 语汐 艺涵 雨欣 一涵 馨悦 乐瑶 若曦 嘉怡 诗雨",
    },
    "f_tail": {  # long tail of feminine name characters, all eras
        "first": "爱蓓碧冰采婵橙纯黛芙馥歌卉蕙娇婕锦菁筠蓝曼玫媚妙凝暖佩琦卿晴琼蓉汝"
                 "瑞莎珊姗霜素苏娃薇娴湘潇星萱璇滟叶宜漪莹滢盈瑛咏优悠瑜钰昱毓苑岳韵"
                 "臻竹珠姿紫梦春冬夏秋丹红青翠蕊兰芬芳香丽秀惠慧"
                 "紫姿珠竹枝芝真贞珍韵芸云悦月苑媛元毓钰玉雨悠优咏影莹颖莺英银茵懿逸宜怡叶"
                 "瑶艳妍燕亚雅雪璇萱秀杏馨欣心笑晓湘香娴仙霞雯文薇婉童彤婷素思霜爽舒淑诗珊"
                 "莎若瑞蕊汝如蓉然群秋琼晴清青勤琴茜倩琦琪萍佩凝宁妮楠娜茗明敏梦媚美梅曼露"
                 "璐柳凌玲琳莲莉丽澜蓝岚兰可筠君娟菊静晶瑾锦金婕洁娇嘉家佳蕙惠慧欢华虹红荷"
                 "菡涵海桂歌馥芙凤芬菲芳朵冬东蝶黛丹翠纯春婵彩冰碧蓓安爱",
        "second": "爱蓓碧璧冰婵嫦黛芙馥歌桂虹卉蕙惠娇婕锦菁筠蓝曼玫媚妙凝佩琦卿清琼秋"
                  "蓉汝瑞莎珊姗诗淑舒霜思素苏彤婉薇娴仙湘潇晓星秀雅滟叶宜漪莹滢盈瑛影"
                  "咏优悠瑜玉昱毓苑韵珍贞真臻芝枝竹珠姿紫倩莺鸾翎羽蝶荷菡萍芸荔茵菲"
                  "爱安蓓碧冰彩婵春纯翠丹黛蝶东冬朵芳菲芬凤芙馥歌桂海涵菡荷红虹华欢慧惠蕙佳"
                  "家嘉娇洁婕金锦瑾晶静菊娟君筠可兰岚蓝澜丽莉莲琳玲凌柳璐露曼梅美媚梦敏明茗"
                  "娜楠妮宁凝佩萍琪琦倩茜琴勤青清晴琼秋群然蓉如汝蕊瑞若莎珊诗淑舒爽霜思素婷"
                  "彤童婉薇文雯霞仙娴香湘晓笑心欣馨杏秀萱璇雪雅亚燕妍艳瑶叶怡宜逸懿茵银英莺"
                  "颖莹影咏优悠雨玉钰毓元媛苑月悦云芸韵珍贞真芝枝竹珠姿紫",
        "single": "丽静敏燕艳娟婷娜洁慧颖倩琳雪芳霞玲萍丹红梅英华妮莉蓉琴瑶蕾薇欣璐露佳"
                  "宁菲晶莹媛茜蕊珊莎岚虹霜晴琼菊兰凤云芸莺蝶萱璇彤",
        "whole": "",
    },
}

# Zipf parameters per slot: (offset k, exponent s).  Tail styles are flatter.
_ZIPF = {"first": (10.0, 0.7), "second": (10.0, 0.7), "single": (12.0, 0.9), "whole": (8.0, 1.0)}
_TAIL_ZIPF = (5.0, 0.35)

#: Anchor years → relative style weights (normalised per profile).  The "_tail"
#: styles are near-flat pools of plausible but less common characters: they
#: carry most of the diversity of two-character names.  Years between anchors
#: are interpolated linearly; outside, the nearest anchor applies.
_MIX_ANCHORS: dict[str, tuple[tuple[int, dict[str, float]], ...]] = {
    "m": (
        (1920, {"m_old": 0.80, "m_tail": 0.30}),
        (1945, {"m_old": 0.55, "m_rev": 0.25, "m_tail": 0.35}),
        (1955, {"m_old": 0.30, "m_rev": 0.50, "m_tail": 0.42}),
        (1965, {"m_old": 0.12, "m_rev": 0.55, "m_reform": 0.13, "m_tail": 0.50}),
        (1975, {"m_old": 0.04, "m_rev": 0.30, "m_reform": 0.46, "m_tail": 0.50}),
        (1985, {"m_rev": 0.08, "m_reform": 0.72, "m_tail": 0.50}),
        (1995, {"m_reform": 0.58, "m_modern": 0.22, "m_tail": 0.50}),
        (2005, {"m_reform": 0.22, "m_modern": 0.58, "m_tail": 0.50}),
        (2015, {"m_reform": 0.08, "m_modern": 0.74, "m_tail": 0.50}),
        (2025, {"m_modern": 0.82, "m_tail": 0.50}),
    ),
    "f": (
        (1920, {"f_old": 0.80, "f_tail": 0.30}),
        (1945, {"f_old": 0.60, "f_rev": 0.20, "f_tail": 0.35}),
        (1955, {"f_old": 0.35, "f_rev": 0.45, "f_tail": 0.42}),
        (1965, {"f_old": 0.15, "f_rev": 0.52, "f_reform": 0.13, "f_tail": 0.50}),
        (1975, {"f_old": 0.05, "f_rev": 0.30, "f_reform": 0.45, "f_tail": 0.50}),
        (1985, {"f_rev": 0.08, "f_reform": 0.72, "f_tail": 0.50}),
        (1995, {"f_reform": 0.58, "f_modern": 0.22, "f_tail": 0.50}),
        (2005, {"f_reform": 0.22, "f_modern": 0.58, "f_tail": 0.50}),
        (2015, {"f_reform": 0.08, "f_modern": 0.74, "f_tail": 0.50}),
        (2025, {"f_modern": 0.82, "f_tail": 0.50}),
    ),
}

#: Anchor years → (share of one-character given names, share of two-character
#: names taken whole from the period's popular-name list).
_SHAPE_ANCHORS: tuple[tuple[int, float, float], ...] = (
    (1920, 0.16, 0.085), (1945, 0.16, 0.085), (1955, 0.18, 0.085), (1965, 0.21, 0.085),
    (1975, 0.25, 0.08), (1985, 0.27, 0.07), (1995, 0.20, 0.07), (2005, 0.11, 0.07),
    (2015, 0.14, 0.07), (2025, 0.11, 0.07),
)

MIN_YEAR = 1900  #: birth years below are treated as this year
MAX_YEAR = 2039  #: birth years above are treated as this year
_BIN = 5  # one precomputed profile per 5-year bin


def _unique(chars: str) -> list[str]:
    seen: dict[str, None] = {}
    for c in chars:
        if not c.isspace():
            seen.setdefault(c, None)
    return list(seen)


def _zipf(items: list[str], k: float, s: float) -> dict[str, float]:
    raw = [1.0 / (i + k) ** s for i in range(len(items))]
    total = sum(raw)
    return {x: w / total for x, w in zip(items, raw)}


def _style_dists() -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, slots in _STYLES.items():
        tail = name.endswith("_tail")
        dists: dict[str, dict[str, float]] = {}
        for slot in ("first", "second", "single", "whole"):
            text = slots[slot]
            if slot == "single" and not text:
                # a long-tail char used alone is as plausible as in second position
                text = slots["second"]
            items = text.split() if slot == "whole" else _unique(text)
            k, s = _TAIL_ZIPF if tail else _ZIPF[slot]
            dists[slot] = _zipf(items, k, s) if items else {}
        out[name] = dists
    return out


_STYLE_DISTS = _style_dists()


def _interp_mix(anchors, year: float) -> dict[str, float]:
    if year <= anchors[0][0]:
        return dict(anchors[0][1])
    for (y0, m0), (y1, m1) in zip(anchors, anchors[1:]):
        if year <= y1:
            t = (year - y0) / (y1 - y0)
            keys = set(m0) | set(m1)
            return {k: (1 - t) * m0.get(k, 0.0) + t * m1.get(k, 0.0) for k in keys}
    return dict(anchors[-1][1])


def _interp_shape(year: float) -> tuple[float, float]:
    a = _SHAPE_ANCHORS
    if year <= a[0][0]:
        return a[0][1], a[0][2]
    for (y0, s0, w0), (y1, s1, w1) in zip(a, a[1:]):
        if year <= y1:
            t = (year - y0) / (y1 - y0)
            return (1 - t) * s0 + t * s1, (1 - t) * w0 + t * w1
    return a[-1][1], a[-1][2]


def _table(mix: dict[str, float], slot: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    acc: dict[str, float] = {}
    for style, w in sorted(mix.items()):
        if w <= 0:
            continue
        dist = _STYLE_DISTS[style][slot]
        if not dist:
            continue
        for x, p in dist.items():
            acc[x] = acc.get(x, 0.0) + w * p
    items = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(x for x, _ in items), _cum(w for _, w in items)


# Profile: (single_share, single_or_whole_share, single_chars, single_cum,
#           whole_names, whole_cum, first_chars, first_cum, second_chars, second_cum)
def _build_profiles():
    by_sex = {}
    for sex, anchors in _MIX_ANCHORS.items():
        per_bin = []
        for b0 in range(MIN_YEAR, MAX_YEAR + 1, _BIN):
            centre = b0 + (_BIN - 1) / 2
            mix = _interp_mix(anchors, centre)
            single_share, whole_share = _interp_shape(centre)
            whole_share *= 1.0 - single_share
            per_bin.append((
                single_share, single_share + whole_share,
                *_table(mix, "single"), *_table(mix, "whole"),
                *_table(mix, "first"), *_table(mix, "second"),
            ))
        by_sex[sex] = tuple(per_bin[(y - MIN_YEAR) // _BIN] for y in range(MIN_YEAR, MAX_YEAR + 1))
    return by_sex


_PROFILES = _build_profiles()
_MALE_BY_YEAR: tuple = _PROFILES["m"]
_FEMALE_BY_YEAR: tuple = _PROFILES["f"]
_YEAR_SPAN = MAX_YEAR - MIN_YEAR


def given_name_chars() -> frozenset[str]:
    """Every character the sampler can put in a given name (for coverage checks)."""
    chars: set[str] = set()
    for profiles in (_MALE_BY_YEAR, _FEMALE_BY_YEAR):
        for p in set(profiles):
            chars.update(p[2])
            chars.update("".join(p[4]))
            chars.update(p[6])
            chars.update(p[8])
    return frozenset(chars)


# ---------------------------------------------------------------------------
# Typo tables
# ---------------------------------------------------------------------------

#: Toneless pinyin → name characters with that reading (each char in one group,
#: under its usual reading in given names).  A pinyin IME offers all of them for
#: the same keystrokes, hence the typical registration typo.
PINYIN_GROUPS: dict[str, str] = {
    "ai": "爱艾蔼霭", "an": "安岸庵", "ao": "傲奥澳敖", "bai": "柏白百佰",
    "bao": "宝保葆豹鲍苞", "bei": "贝蓓北倍备", "ben": "本奔", "bi": "碧璧必毕弼壁",
    "bian": "边卞汴", "biao": "彪标镖飙", "bin": "斌彬滨宾缤", "bing": "冰兵炳秉丙",
    "bo": "波博伯勃渤泊", "cai": "才财彩采材蔡", "can": "灿璨", "cang": "仓苍沧",
    "chang": "昌常畅倡唱昶长", "chao": "超潮巢晁朝", "chen": "晨辰宸臣琛尘陈沉忱",
    "cheng": "成诚城程承呈澄橙乘丞骋", "chi": "驰池迟弛", "chong": "冲崇充",
    "chu": "楚初储础", "chuan": "川传船钏", "chun": "春纯淳椿醇", "ci": "慈瓷辞",
    "cong": "聪丛从葱琮", "cui": "翠萃粹崔璀", "da": "达大", "dai": "岱黛代戴",
    "dan": "丹旦", "dao": "道稻导", "de": "德得", "deng": "登灯邓",
    "di": "娣弟笛迪棣帝荻", "dian": "殿典点甸", "ding": "定丁鼎顶", "dong": "东冬栋董",
    "du": "杜笃督独度", "duan": "端段", "e": "娥蛾鹅峨", "er": "二尔儿", "fa": "发法",
    "fan": "凡帆繁范樊梵", "fang": "芳方放舫仿坊", "fei": "飞菲斐非霏妃",
    "fen": "芬分纷汾奋", "feng": "凤峰锋风丰枫逢封烽冯奉", "fu": "福富甫复付傅芙馥扶符府",
    "gai": "改该", "gang": "刚钢岗纲港", "gao": "高皋糕", "ge": "歌格阁戈葛",
    "gen": "根跟", "geng": "耿庚更耕", "gong": "功公宫恭龚", "gu": "姑古谷顾固",
    "gui": "贵桂归瑰", "guo": "国果郭", "han": "涵晗寒含韩翰瀚汉菡函", "hang": "航杭",
    "hao": "浩昊豪皓灏好郝", "he": "和河荷禾合贺赫鹤", "heng": "恒衡珩横",
    "hong": "红宏洪鸿虹弘泓", "hou": "厚后侯", "hu": "虎湖胡护", "hua": "华花化桦骅画",
    "huai": "怀淮槐", "huan": "环欢焕桓寰", "huang": "煌皇黄璜", "hui": "慧惠辉晖蕙卉会徽汇",
    "ji": "吉纪季继济记骥冀姬基", "jia": "嘉佳家加珈迦贾", "jian": "建健剑坚俭鉴见键",
    "jiang": "江疆姜蒋将", "jiao": "娇姣蛟焦骄", "jie": "杰洁婕捷节结解",
    "jin": "金锦进晋瑾津劲谨今近", "jing": "静晶精敬京菁婧靖景井竞境璟", "jiu": "九久玖",
    "ju": "菊巨举局聚", "juan": "娟鹃涓绢隽", "jun": "俊军君骏峻钧珺郡均浚",
    "kai": "凯开楷铠恺", "kang": "康抗慷", "ke": "可珂科柯克轲", "kun": "坤昆琨",
    "kuo": "阔扩廓", "lai": "来莱赖", "lan": "兰岚蓝澜栏斓", "lang": "朗浪郎琅",
    "le": "乐勒", "lei": "磊雷蕾垒", "li": "丽莉俐立利力理礼黎历栗李荔",
    "lian": "莲连廉联涟炼", "liang": "良亮梁凉量", "lin": "琳林霖麟临邻",
    "ling": "玲灵凌铃岭龄羚翎菱", "liu": "柳留流刘六", "long": "龙隆珑泷",
    "lu": "璐露路鹿禄陆潞录", "lun": "伦轮论", "luo": "洛罗络", "man": "满曼蔓漫",
    "mao": "茂贸帽毛冒", "mei": "梅美玫媚妹", "meng": "梦萌蒙孟盟檬", "mi": "米蜜觅",
    "miao": "妙苗淼", "min": "敏民珉闽旻岷", "ming": "明铭鸣名茗", "mo": "墨莫默陌",
    "mu": "沐木牧慕穆幕睦", "na": "娜纳", "nan": "楠南男", "ni": "妮霓倪",
    "ning": "宁凝柠", "niu": "妞牛纽", "nv": "女", "pan": "盼潘攀", "pei": "培佩沛裴配",
    "peng": "鹏朋彭蓬澎", "ping": "平萍坪苹屏", "pu": "璞朴普浦",
    "qi": "琪琦其齐启奇棋淇祺骐麒旗绮岐七", "qian": "倩茜谦乾千芊迁钱前",
    "qiang": "强蔷墙", "qiao": "巧乔桥侨", "qin": "琴勤芹秦钦沁", "qing": "庆清青晴情卿擎",
    "qiong": "琼穹", "qiu": "秋球求邱", "quan": "全泉权荃铨", "qun": "群裙",
    "ran": "然冉染燃", "ren": "仁人任忍", "rong": "荣蓉容融溶榕戎嵘", "ru": "茹如儒汝",
    "rui": "睿瑞锐蕊芮", "sha": "莎沙纱", "shan": "山珊杉善闪姗", "shang": "尚上商",
    "shao": "少绍韶邵", "shen": "深申身神沈", "sheng": "生胜升盛圣晟声笙",
    "shi": "诗士世石仕实师时施", "shou": "寿守首", "shu": "淑书舒树叔姝殊曙",
    "shuai": "帅率", "shuang": "双爽霜", "shun": "顺舜", "shuo": "硕烁朔",
    "si": "思斯丝司四", "song": "松颂嵩宋", "su": "素苏肃", "suo": "锁索",
    "tai": "泰太台", "tang": "堂唐棠", "tao": "涛韬桃陶滔", "teng": "腾滕藤",
    "tian": "天田甜添恬", "ting": "婷亭庭廷霆挺", "tong": "彤童桐通同瞳佟",
    "wa": "娃蛙", "wan": "万婉晚宛琬", "wang": "旺望王汪",
    "wei": "伟玮炜威薇维卫微巍蔚韦唯为位", "wen": "文雯闻纹温汶稳",
    "wu": "武五午吴伍舞悟梧", "xi": "熙希溪曦喜西夕锡惜晞汐悉", "xia": "霞夏侠遐",
    "xian": "仙先贤娴弦鲜显宪", "xiang": "祥翔香湘相享向象想", "xiao": "晓小笑孝筱潇肖萧",
    "xin": "欣新馨心鑫昕芯辛信忻歆", "xing": "兴星杏幸行邢醒", "xiong": "雄熊",
    "xiu": "秀修琇", "xu": "旭煦栩序徐许绪", "xuan": "轩萱宣璇玄暄炫煊瑄",
    "xue": "雪学薛", "xun": "勋迅寻训", "ya": "雅亚娅芽", "yan": "燕艳妍岩颜延言彦雁研炎晏焰嫣滟焱",
    "yang": "阳洋杨扬羊旸", "yao": "瑶遥尧耀姚谣", "ye": "叶业烨野晔",
    "yi": "一怡依奕艺益毅宜逸翼伊忆亦义仪漪懿乙祎熠", "yin": "银音茵殷尹寅引",
    "ying": "颖英莹影盈瑛樱鹰营迎应莺滢映", "yong": "勇永泳咏涌拥雍", "you": "优友佑有游悠幽",
    "yu": "宇雨玉语瑜予羽钰煜毓余愉俞裕誉禹昱渝", "yuan": "元源园圆媛原远苑袁缘渊援沅",
    "yue": "悦月越玥跃岳粤", "yun": "云芸韵运允匀昀筠", "ze": "泽则择",
    "zhan": "展占湛战詹", "zhao": "兆照昭钊肇赵招", "zhang": "章张彰樟璋",
    "zhe": "哲喆浙", "zhen": "珍真贞振镇震祯臻", "zheng": "正征峥铮郑政",
    "zhi": "志智芝枝之知治致直植芷", "zhong": "中忠钟仲众", "zhou": "洲舟周州",
    "zhu": "竹珠朱柱祝铸助诸", "zhuo": "卓灼琢", "zi": "子梓紫姿资孜滋",
    "zong": "宗综棕", "zu": "祖组族", "die": "蝶迭叠", "luan": "鸾峦銮",
    "guang": "光广", "dang": "党当档", "guan": "冠关官观贯", "kui": "奎魁葵",
    "chan": "婵嫦蝉", "cun": "存村寸", "san": "三叁", "nai": "乃奈耐", "kuan": "宽款",
    "dou": "斗豆窦", "hai": "海亥", "she": "设社舍", "tie": "铁帖", "duo": "铎多朵",
    "zeng": "增曾", "nian": "年念", "bang": "邦帮榜",
}


def _homophones() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for chars in PINYIN_GROUPS.values():
        for c in chars:
            if c in table:  # pragma: no cover - data error
                raise AssertionError(f"{c} is in two pinyin groups")
            alts = tuple(x for x in chars if x != c)
            if alts:
                table[c] = alts
    return table


#: Given-name character → same-pinyin (toneless) alternatives, commonest first.
HOMOPHONES: dict[str, tuple[str, ...]] = _homophones()

_TRAD_PAIRS = (
    "华華国國东東军軍红紅卫衛兰蘭凤鳳丽麗静靜艳艷洁潔颖穎伟偉强強杰傑涛濤刚剛"
    "辉輝鹏鵬飞飛龙龍锋鋒凯凱阳陽宁寧伦倫兴興庆慶贵貴荣榮财財发發宝寶义義云雲"
    "爱愛梦夢诗詩语語轩軒泽澤铭銘诺諾晓曉亚亞莲蓮环環叶葉娇嬌岚嵐瑶瑤鸿鴻胜勝"
    "进進跃躍学學继繼长長树樹广廣寿壽书書绍紹连連锡錫汉漢怀懷顺順礼禮禄祿来來"
    "双雙满滿银銀铁鐵钢鋼帅帥乐樂欢歡馨馨锦錦钰鈺烨燁灏灝骏駿琼瓊虹虹娟娟贞貞"
    "玮瑋炜煒钧鈞涵涵萱萱妍妍宸宸熙熙铎鐸钊釗铮錚钦欽铠鎧铸鑄锁鎖桦樺栋棟枫楓"
    "渊淵沁沁浚浚湘湘泽澤晖暉烁爍硕碩鸣鳴丰豐为為业業兰蘭岭嶺莹瑩滢瀅萤螢蝶蝶"
    "鸾鸞莺鶯纯純红紅绮綺维維纹紋纲綱绪緒缘緣练練绢絹钟鍾钱錢铃鈴铨銓韵韻顺順"
    "颂頌顾顧丛叢从從凉涼冯馮兵兵刘劉则則刚剛务務动動劲勁勋勳区區华華单單卢盧"
    "卫衛厉厲县縣叶葉号號吕呂员員园園围圍坚堅坤坤垒壘声聲处處备備复復夏夏"
    "梅梅宾賓实實宪憲宽寬对對寻尋导導寿壽层層岁歲岗崗岩巖岳嶽崭嶄帆帆"
    "师師帐帳应應庙廟庞龐库庫张張弥彌归歸彦彥彬彬忆憶忧憂恒恆恺愷悦悅"
    "惠惠慧慧怜憐恋戀战戰户戶扬揚扩擴抗抗拥擁挥揮旷曠时時显顯晋晉晔曄昙曇"
    "杨楊杰傑极極权權条條杂雜标標栏欄样樣桥橋梦夢检檢楼樓榕榕槐槐乔喬欧歐残殘"
    "毕畢气氣汇匯汤湯沟溝沧滄泸瀘泪淚泻瀉洁潔浅淺测測济濟浑渾涌湧涛濤涟漣润潤"
    "渐漸温溫湾灣满滿滨濱潇瀟澜瀾灯燈灵靈灿燦炉爐点點炼煉烟煙热熱焕煥爷爺牵牽"
    "犹猶狮獅献獻玑璣玛瑪现現珑瓏琐瑣琏璉琼瓊瑶瑤璎瓔电電畅暢疗療盘盤眯瞇睁睜"
    "矿礦码碼础礎硕碩确確礼禮祯禎祸禍离離种種积積称稱稳穩穷窮窝窩竞競笔筆笋筍"
    "筑築签簽简簡粮糧紧緊纤纖约約级級纪紀纬緯纱紗纳納纵縱纷紛纸紙纺紡组組细細"
    "织織终終绍紹经經绘繪给給络絡绝絕统統继繼绩績绪緒绫綾续續绮綺绰綽绳繩绵綿"
    "综綜绿綠缇緹缤繽罗羅美美翘翹耀耀联聯聪聰肃肅胜勝脑腦艺藝节節芦蘆苏蘇苹蘋"
    "荐薦荡蕩荣榮药藥莱萊获獲萝蘿营營萧蕭蓝藍蔷薔虽雖蛮蠻补補装裝见見观觀"
    "规規觉覺览覽让讓记記许許论論设設访訪证證评評识識诚誠询詢话話该該详詳"
    "语語说說请請读讀课課谁誰调調谈談谊誼谋謀谢謝谦謙谨謹贝貝贞貞负負贡貢财財"
    "责責贤賢败敗货貨质質贯貫贺賀赐賜赖賴赞贊赵趙跃躍车車轩軒转轉轮輪轶軼辉輝"
    "达達迁遷过過运運还還这這进進远遠违違连連迟遲适適选選逊遜递遞逻邏遗遺邓鄧"
    "郑鄭邻鄰鉴鑒钊釗钓釣钗釵钦欽钧鈞钩鉤钮鈕钻鑽铃鈴铎鐸铜銅铭銘银銀铸鑄"
    "锋鋒锐銳锡錫锦錦键鍵镇鎮长長门門闪閃闭閉问問闯闖闰閏闲閑间間闵閔闻聞阁閣"
    "阅閱阳陽阵陣阶階际際陆陸陈陳隐隱隶隸难難雏雛雳靂雾霧韩韓页頁顶頂项項顺順"
    "须須顽頑顿頓颂頌预預领領颜顏题題颢顥风風飘飄飞飛馆館驰馳驹駒骄驕骏駿骐騏"
    "骥驥鱼魚鲁魯鲍鮑鸣鳴鸥鷗鸽鴿鸿鴻鹃鵑鹏鵬鹤鶴鹰鷹麦麥黄黃齐齊龚龔"
    "丝絲两兩严嚴个個临臨为為举舉丽麗义義乌烏乐樂亏虧亲親亿億仅僅从從仓倉仪儀"
    "们們价價众眾优優伙夥会會伞傘传傳伤傷伦倫伪偽体體佣傭侠俠侣侶俭儉债債"
    "倾傾偿償储儲儿兒兰蘭关關兴興养養兽獸内內冈岡册冊军軍农農冯馮决決况況冻凍"
    "净淨准準凤鳳凯凱击擊创創刘劉则則刚剛删刪别別剑劍剧劇劝勸办辦务務动動励勵"
    "劲勁劳勞势勢勋勳匀勻区區医醫华華协協单單卖賣卢盧卫衛却卻厅廳历歷厉厲压壓"
    "厦廈县縣参參双雙发發变變叙敘叠疊叶葉号號叹嘆吓嚇吕呂吗嗎启啟吴吳员員听聽"
    "园園围圍图圖圆圓圣聖场場坏壞块塊坚堅坛壇坝壩坞塢坟墳坠墜垄壟垒壘垦墾执執"
    "圹壙尔爾尧堯岂豈岁歲岚嵐峦巒崭嶄巩鞏币幣帅帥师師帐帳帜幟带帶帮幫庄莊庆慶"
    "库庫应應庙廟庞龐废廢开開异異弃棄张張弥彌弯彎归歸当當录錄彻徹径徑"
)


def _trad_table() -> dict[str, str]:
    table: dict[str, str] = {}
    s = _TRAD_PAIRS
    for i in range(0, len(s) - 1, 2):
        simp, trad = s[i], s[i + 1]
        if simp != trad:
            table.setdefault(simp, trad)
    return table


#: Simplified → traditional form (a register keyed in on a traditional-script
#: system, or copied from an old document).  Only pairs that actually differ.
TRADITIONAL: dict[str, str] = _trad_table()
_TRADITIONAL_ALTS: dict[str, tuple[str, ...]] = {k: (v,) for k, v in TRADITIONAL.items()}

# ---------------------------------------------------------------------------
# Sampler
# ---------------------------------------------------------------------------


class NameSampler:
    """Samples surnames and period-appropriate given names from ``rng``.

    ``sex`` is the GB/T 2261.1 code: ``"1"`` male, ``"2"`` female; any other code
    ("0" unknown, "9" unspecified) picks one of the two at random.
    """

    __slots__ = ("rng", "_random")

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._random = rng.random

    def surname(self) -> str:
        return _SURNAME_CHARS[bisect_right(_SURNAME_CUM, self._random())]

    def _profile(self, sex: str, birth_year: int):
        i = birth_year - MIN_YEAR
        if i < 0:
            i = 0
        elif i > _YEAR_SPAN:
            i = _YEAR_SPAN
        if sex == "1":
            return _MALE_BY_YEAR[i]
        if sex == "2":
            return _FEMALE_BY_YEAR[i]
        return (_MALE_BY_YEAR if self._random() < 0.5 else _FEMALE_BY_YEAR)[i]

    def given(self, sex: str, birth_year: int) -> str:
        """A one- or two-character given name for someone of ``sex`` born in ``birth_year``."""
        r = self._random
        p = self._profile(sex, birth_year)
        x = r()
        if x < p[0]:
            return p[2][bisect_right(p[3], r())]
        if x < p[1]:
            return p[4][bisect_right(p[5], r())]
        a = p[6][bisect_right(p[7], r())]
        b = p[8][bisect_right(p[9], r())]
        if a == b:  # accidental reduplication: draw the second char again (once)
            b = p[8][bisect_right(p[9], r())]
        return a + b

    def full_name(self, sex: str, birth_year: int) -> str:
        """Surname + given name.  Never produces a name that :func:`surname_of`
        would split differently (欧 + 阳X would read as 欧阳 + X)."""
        r = self._random
        s = _SURNAME_CHARS[bisect_right(_SURNAME_CUM, r())]
        # inlined given() — this is the generator's hot path
        i = birth_year - MIN_YEAR
        if i < 0:
            i = 0
        elif i > _YEAR_SPAN:
            i = _YEAR_SPAN
        if sex == "1":
            p = _MALE_BY_YEAR[i]
        elif sex == "2":
            p = _FEMALE_BY_YEAR[i]
        else:
            p = (_MALE_BY_YEAR if r() < 0.5 else _FEMALE_BY_YEAR)[i]
        x = r()
        if x < p[0]:
            return s + p[2][bisect_right(p[3], r())]
        if x < p[1]:
            g = p[4][bisect_right(p[5], r())]
        else:
            a = p[6][bisect_right(p[7], r())]
            b = p[8][bisect_right(p[9], r())]
            if a == b:
                b = p[8][bisect_right(p[9], r())]
            g = a + b
        if s in _COMPOUND_HEADS:
            while s + g[0] in COMPOUND_SURNAMES:
                g = p[6][bisect_right(p[7], r())] + g[1]
        return s + g

    def homophone_variant(self, name: str) -> str:
        """The same name as it might be mistyped: one given-name character replaced
        by a same-pinyin character (usually), else a similar-looking one, else its
        traditional form.  Same length, same surname, always different.

        Raises ``ValueError`` if no given-name character has any alternative
        (cannot happen for names produced by this sampler).
        """
        sur = surname_of(name)
        n = len(sur)
        positions = list(range(n, len(name)))
        if not positions:
            raise ValueError(f"no given name in {name!r}")
        rng = self.rng
        rng.shuffle(positions)
        tables = [HOMOPHONES, SIMILAR_SHAPE, _TRADITIONAL_ALTS]
        if rng.random() < 0.1:  # now and then a handwriting/OCR confusion instead
            tables[0], tables[1] = SIMILAR_SHAPE, HOMOPHONES
        guard = n == 1 and sur in _COMPOUND_HEADS
        for table in tables:
            for pos in positions:
                alts = table.get(name[pos], ())
                if guard and pos == 1:  # 欧洋光 must not become 欧阳光 (surname 欧阳)
                    alts = tuple(a for a in alts if sur + a not in COMPOUND_SURNAMES)
                if alts:
                    return name[:pos] + rng.choice(alts) + name[pos + 1:]
        raise ValueError(f"no homophone, similar-shape or traditional variant for {name!r}")
