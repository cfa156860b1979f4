"""GB/T 2260 administrative division codes: the province table and a plausibility check.

A division code is 6 digits: province (2) + prefecture (2) + county (2).  Only
county-level codes (neither part ``00``) were ever issued in resident ID numbers,
plus the three whole codes used on residence permits for Hong Kong, Macao and
Taiwan residents (810000, 820000, 830000).

Pure standard library, no I/O.
"""

from __future__ import annotations

PROBLEM_CODE = "id_number.division"

#: Province-level code → (Chinese name, English name).  Includes 71/81/82, which
#: exist in GB/T 2260 but are not used as the province of a mainland resident.
PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京市", "Beijing"),
    "12": ("天津市", "Tianjin"),
    "13": ("河北省", "Hebei"),
    "14": ("山西省", "Shanxi"),
    "15": ("内蒙古自治区", "Inner Mongolia"),
    "21": ("辽宁省", "Liaoning"),
    "22": ("吉林省", "Jilin"),
    "23": ("黑龙江省", "Heilongjiang"),
    "31": ("上海市", "Shanghai"),
    "32": ("江苏省", "Jiangsu"),
    "33": ("浙江省", "Zhejiang"),
    "34": ("安徽省", "Anhui"),
    "35": ("福建省", "Fujian"),
    "36": ("江西省", "Jiangxi"),
    "37": ("山东省", "Shandong"),
    "41": ("河南省", "Henan"),
    "42": ("湖北省", "Hubei"),
    "43": ("湖南省", "Hunan"),
    "44": ("广东省", "Guangdong"),
    "45": ("广西壮族自治区", "Guangxi"),
    "46": ("海南省", "Hainan"),
    "50": ("重庆市", "Chongqing"),
    "51": ("四川省", "Sichuan"),
    "52": ("贵州省", "Guizhou"),
    "53": ("云南省", "Yunnan"),
    "54": ("西藏自治区", "Xizang"),
    "61": ("陕西省", "Shaanxi"),
    "62": ("甘肃省", "Gansu"),
    "63": ("青海省", "Qinghai"),
    "64": ("宁夏回族自治区", "Ningxia"),
    "65": ("新疆维吾尔自治区", "Xinjiang"),
    "71": ("台湾省", "Taiwan"),
    "81": ("香港特别行政区", "Hong Kong"),
    "82": ("澳门特别行政区", "Macao"),
}

#: Province codes whose county-level divisions appear in mainland resident ID numbers.
ISSUING_PROVINCES: frozenset[str] = frozenset(
    ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
     "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65")
)

#: Whole 6-digit codes used on residence permits for Hong Kong, Macao and Taiwan residents.
RESIDENCE_PERMIT_DIVISIONS: dict[str, tuple[str, str]] = {
    "810000": ("香港特别行政区", "Hong Kong"),
    "820000": ("澳门特别行政区", "Macao"),
    "830000": ("台湾地区", "Taiwan"),
}

_PERMIT_BY_PROVINCE = {code[:2]: code for code in RESIDENCE_PERMIT_DIVISIONS}
_DIGITS = frozenset("0123456789")


def province_name(code: str) -> tuple[str, str] | None:
    """(Chinese, English) name of the province of a division code (first 2 digits), or None."""
    return PROVINCES.get(code[:2]) or (
        RESIDENCE_PERMIT_DIVISIONS.get(code) if len(code) == 6 else None
    )


def plausible_division(code6: str) -> tuple[str, str, str] | None:
    """None if ``code6`` could be the division part of a person's ID number,
    else ``(problem_code, message_zh, message_en)``."""
    if len(code6) != 6 or not _DIGITS.issuperset(code6):
        return (PROBLEM_CODE,
                f"行政区划代码应为6位数字，实际为“{code6}”",
                f"division code must be 6 digits, got '{code6}'")
    if code6 in RESIDENCE_PERMIT_DIVISIONS:
        return None
    province = code6[:2]
    if province not in ISSUING_PROVINCES:
        permit = _PERMIT_BY_PROVINCE.get(province)
        if permit:  # 81/82/83: only the whole permit code exists
            zh, en = RESIDENCE_PERMIT_DIVISIONS[permit]
            return (PROBLEM_CODE,
                    f"省级代码{province}（{zh}）只以{permit}出现在{zh}居民的居住证号码中，{code6}不存在",
                    f"province code {province} ({en}) is only used as {permit}, on residence permits "
                    f"for {en} residents; {code6} does not exist")
        if province in PROVINCES:  # 71
            zh, en = PROVINCES[province]
            return (PROBLEM_CODE,
                    f"省级代码{province}（{zh}）不用于居民身份证号，台湾居民居住证使用830000",
                    f"province code {province} ({en}) is not used in resident ID numbers; "
                    f"residence permits for Taiwan residents use 830000")
        return (PROBLEM_CODE, f"省级代码{province}不存在", f"province code {province} does not exist")
    prefecture, county = code6[2:4], code6[4:]
    if prefecture == "00" and county == "00":
        return (PROBLEM_CODE,
                f"行政区划代码{code6}是省级代码，不是发证的县级代码",
                f"division code {code6} is a province code, never issued to people")
    if county == "00":
        return (PROBLEM_CODE,
                f"行政区划代码{code6}是地级代码，不是发证的县级代码",
                f"division code {code6} is a prefecture code, never issued to people")
    if prefecture == "00":
        return (PROBLEM_CODE,
                f"行政区划代码{code6}的地级部分为00，从未发证",
                f"division code {code6} has prefecture part 00, never issued to people")
    return None
