"""Pure registry rules: code tables, derived tags, resident validation. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rhip.kit.errors import FieldError
from rhip.kit.idcard import SEX_LABELS, check_id_number, consistency_problems

LEVELS = ("county", "township", "village")
LEVEL_OF_LENGTH = {"county": 6, "township": 9, "village": 12}

# Organization kinds → (tier, zh, en)
ORG_KINDS: dict[str, tuple[str, str, str]] = {
    "county_hospital": ("county", "县人民医院", "county hospital"),
    "tcm_hospital": ("county", "县中医院", "county TCM hospital"),
    "mch_centre": ("county", "妇幼保健计划生育服务中心", "maternal and child health centre"),
    "cdc": ("public_health", "疾病预防控制中心", "centre for disease control"),
    "supervision": ("public_health", "卫生健康监督所", "health supervision institute"),
    "commission": ("administration", "卫生健康委员会", "health commission"),
    "township_centre": ("township", "乡镇卫生院", "township health centre"),
    "community_centre": ("township", "社区卫生服务中心", "community health centre"),
    "village_clinic": ("village", "村卫生室", "village clinic"),
}
TIERS = {
    "county": ("县级", "county level"),
    "township": ("乡镇级", "township level"),
    "village": ("村级", "village level"),
    "public_health": ("专业公共卫生机构", "public health"),
    "administration": ("行政机关", "administration"),
}
PROFESSIONS = {
    "physician": ("医师", "physician"),
    "assistant_physician": ("助理医师", "assistant physician"),
    "village_doctor": ("乡村医生", "village doctor"),
    "nurse": ("护士", "nurse"),
    "public_health": ("公共卫生医师", "public health physician"),
    "pharmacist": ("药师", "pharmacist"),
    "technician": ("技师", "technician"),
    "inspector": ("卫生监督员", "health inspector"),
    "manager": ("管理人员", "manager"),
}
QUALIFICATIONS = {
    "licensed_physician": ("执业医师", "licensed physician"),
    "licensed_assistant": ("执业助理医师", "licensed assistant physician"),
    "rural_doctor_cert": ("乡村医生执业证书", "rural doctor certificate"),
    "registered_nurse": ("注册护士", "registered nurse"),
    "licensed_pharmacist": ("执业药师", "licensed pharmacist"),
    "technician_cert": ("技师资格", "technician qualification"),
    "inspector_cert": ("监督员证", "inspector certificate"),
}
TEAM_ROLES = {
    "leader": ("团队长", "team leader"),
    "gp": ("全科医生", "general practitioner"),
    "village_doctor": ("乡村医生", "village doctor"),
    "nurse": ("护士", "nurse"),
    "public_health": ("公卫人员", "public health staff"),
    "specialist": ("县级专科医生", "county specialist"),
}
# GB/T 4761 家庭关系代码 (the codes used here)
RELATIONS = {
    "02": ("户主", "head of household"),
    "10": ("配偶", "spouse"),
    "20": ("子", "son"),
    "30": ("女", "daughter"),
    "40": ("孙子女", "grandchild"),
    "50": ("父母", "parent"),
    "60": ("祖父母", "grandparent"),
    "70": ("兄弟姐妹", "sibling"),
    "80": ("儿媳/女婿", "child-in-law"),
    "99": ("其他", "other"),
}
# GB/T 26341 残疾类别
DISABILITIES = {
    "1": ("视力残疾", "visual"), "2": ("听力残疾", "hearing"), "3": ("言语残疾", "speech"),
    "4": ("肢体残疾", "physical"), "5": ("智力残疾", "intellectual"), "6": ("精神残疾", "mental"),
    "7": ("多重残疾", "multiple"),
}
# GB/T 3304 民族 (the most common ones; any two-digit code 01–56 is accepted)
ETHNICITIES = {
    "01": ("汉族", "Han"), "02": ("蒙古族", "Mongol"), "03": ("回族", "Hui"), "04": ("藏族", "Tibetan"),
    "05": ("维吾尔族", "Uyghur"), "06": ("苗族", "Miao"), "07": ("彝族", "Yi"), "08": ("壮族", "Zhuang"),
    "09": ("布依族", "Buyei"), "10": ("朝鲜族", "Korean"), "11": ("满族", "Manchu"), "12": ("侗族", "Dong"),
    "13": ("瑶族", "Yao"), "14": ("白族", "Bai"), "15": ("土家族", "Tujia"),
}
STATUSES = {"alive": ("在册", "alive"), "deceased": ("死亡", "deceased"), "moved_out": ("迁出", "moved out")}
ID_STATUSES = {"valid": ("有效", "valid"), "legacy15": ("15位旧号已升位", "upgraded from 15 digits"),
               "invalid": ("号码有误", "invalid"), "missing": ("无身份证号", "missing")}

TAGS = {
    "elderly65": ("65岁及以上老年人", "aged 65+"),
    "child0_6": ("0–6岁儿童", "child 0–6"),
    "disabled": ("残疾人", "disabled"),
    "poor": ("建档立卡贫困人口", "registered poor"),
    "fp_special": ("计生特殊家庭", "family-planning special family"),
}

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def age_on(birth: date, on: date) -> int:
    """Completed years on a date (a person born on 29 February ages on 1 March in common years)."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def derived_tags(*, birth_date: date, on: date, disability: str | None = None, poverty_registered: bool = False,
                 fp_special_family: bool = False) -> list[str]:
    """Tags derived from registry facts (clinical key populations come from the record, later)."""
    age = age_on(birth_date, on)
    tags = []
    if age >= 65:
        tags.append("elderly65")
    if 0 <= age <= 6:
        tags.append("child0_6")
    if disability:
        tags.append("disabled")
    if poverty_registered:
        tags.append("poor")
    if fp_special_family:
        tags.append("fp_special")
    return tags


def birth_range_for_tag(tag: str, on: date) -> tuple[date | None, date | None]:
    """Birth-date bounds [lo, hi] that make the age tag true on ``on`` (for indexed search)."""
    def years_before(n: int) -> date:
        try:
            return on.replace(year=on.year - n)
        except ValueError:  # 29 Feb → 28 Feb
            return on.replace(year=on.year - n, day=28)
    if tag == "elderly65":
        return None, years_before(65)
    if tag == "child0_6":
        from datetime import timedelta
        return years_before(7) + timedelta(days=1), on
    raise ValueError(tag)


def normalize_name(name: str) -> str:
    """Strip spaces (also full-width) and convert full-width letters; keep the middle dot of minority names."""
    out = []
    for ch in name.strip():
        code = ord(ch)
        if ch in " \u3000\t":
            continue
        if 0xFF01 <= code <= 0xFF5E:
            ch = chr(code - 0xFEE0)
        if ch in "．•‧・":
            ch = "·"
        out.append(ch)
    return "".join(out)


def normalize_phone(phone: str) -> str:
    return re.sub(r"[\s\u3000()（）+]", "", phone).removeprefix("86") if phone else phone


@dataclass(slots=True)
class IdOutcome:
    id_number: str | None
    raw: str | None
    status: str
    derived_sex: str | None
    derived_birth: date | None


def resolve_id_number(raw: str | None, field: str, errors: list[FieldError], *, today: date) -> IdOutcome:
    """Validate an ID number given through a form or API: invalid numbers are refused (never stored as valid)."""
    if raw is None or not raw.strip():
        return IdOutcome(None, None, "missing", None, None)
    chk = check_id_number(raw, today=today)
    if not chk.valid:
        for p in chk.problems:
            errors.append(FieldError(field, p.code, p.message_zh, p.message_en))
        return IdOutcome(None, raw, "invalid", None, None)
    return IdOutcome(chk.normalized, raw.strip() if chk.legacy15 else None, "legacy15" if chk.legacy15 else "valid",
                     chk.sex, chk.birth_date)


def validate_resident(data: dict, *, today: date, partial: bool = False) -> tuple[dict, list[FieldError]]:
    """Check and normalise resident fields. Returns (clean values, errors). Pure: no database access.

    ``partial``: only the given keys are checked (PATCH); cross-field checks use what was given.
    """
    errors: list[FieldError] = []
    clean: dict = {}

    def err(field: str, code: str, zh: str, en: str) -> None:
        errors.append(FieldError(field, code, zh, en))

    if "name" in data or not partial:
        name = normalize_name(data.get("name") or "")
        if not name:
            err("name", "name.required", "姓名不能为空", "name is required")
        elif len(name) > 40:
            err("name", "name.too_long", f"姓名过长（{len(name)}个字）", f"name is too long ({len(name)} characters)")
        elif any(ch.isdigit() for ch in name):
            err("name", "name.digits", "姓名不能包含数字", "name must not contain digits")
        clean["name"] = name

    if "sex" in data or not partial:
        sex = data.get("sex")
        if sex not in SEX_LABELS:
            err("sex", "sex.code", f"性别代码“{sex}”无效，应为0、1、2或9（GB/T 2261.1）",
                f"sex code '{sex}' is not valid; use 0, 1, 2 or 9 (GB/T 2261.1)")
        clean["sex"] = sex

    if "birth_date" in data or not partial:
        bd = data.get("birth_date")
        if bd is None:
            err("birth_date", "birth_date.required", "出生日期不能为空", "birth date is required")
        elif bd > today:
            err("birth_date", "birth_date.future", f"出生日期{bd.isoformat()}晚于今天",
                f"birth date {bd.isoformat()} is in the future")
        elif bd.year < 1880:
            err("birth_date", "birth_date.too_old", f"出生日期{bd.isoformat()}早于1880年",
                f"birth date {bd.isoformat()} is before 1880")
        clean["birth_date"] = bd

    if "id_number" in data or not partial:
        outcome = resolve_id_number(data.get("id_number"), "id_number", errors, today=today)
        clean["id_number"] = outcome.id_number
        clean["id_number_raw"] = outcome.raw
        clean["id_number_status"] = outcome.status
        if outcome.id_number:
            from rhip.kit.idcard import check_id_number as _chk
            chk = _chk(outcome.id_number, today=today)
            for p in consistency_problems(chk, sex=clean.get("sex"), birth_date=clean.get("birth_date")):
                field = "sex" if "sex" in p.code else "birth_date"
                err(field, p.code, p.message_zh, p.message_en)

    for key in ("phone", "phone2"):
        if key in data and data[key]:
            phone = normalize_phone(data[key])
            if not PHONE_RE.match(phone):
                err(key, "phone.format", f"电话号码“{data[key]}”格式不正确（手机11位，或带区号的固定电话）",
                    f"phone number '{data[key]}' is not a mobile (11 digits) or landline with area code")
            clean[key] = phone
        elif key in data:
            clean[key] = None

    if "ethnicity" in data and data["ethnicity"] is not None:
        eth = data["ethnicity"]
        if not (len(eth) == 2 and eth.isdigit() and 1 <= int(eth) <= 56 or eth in ("97", "98")):
            err("ethnicity", "ethnicity.code", f"民族代码“{eth}”无效（GB/T 3304：01–56）",
                f"ethnicity code '{eth}' is not valid (GB/T 3304: 01–56)")
        clean["ethnicity"] = eth

    if "relation_to_head" in data and data["relation_to_head"] is not None:
        rel = data["relation_to_head"]
        if rel not in RELATIONS:
            err("relation_to_head", "relation.code", f"与户主关系代码“{rel}”无效",
                f"relation code '{rel}' is not valid; use one of {', '.join(RELATIONS)}")
        clean["relation_to_head"] = rel

    if "disability" in data:
        dis = data["disability"]
        if dis is not None and dis not in DISABILITIES:
            err("disability", "disability.code", f"残疾类别“{dis}”无效（GB/T 26341：1–7）",
                f"disability category '{dis}' is not valid (GB/T 26341: 1–7)")
        clean["disability"] = dis
    if "disability_grade" in data:
        g = data["disability_grade"]
        if g is not None and not 1 <= g <= 4:
            err("disability_grade", "disability.grade", f"残疾等级{g}无效（1–4级）", f"disability grade {g} is not 1–4")
        clean["disability_grade"] = g

    if "status" in data or not partial:
        status = data.get("status") or "alive"
        sdate = data.get("status_date")
        if status not in STATUSES:
            err("status", "status.code", f"状态“{status}”无效", f"status '{status}' is not one of {', '.join(STATUSES)}")
        elif status != "alive" and sdate is None:
            err("status_date", "status_date.required", "死亡或迁出须填写日期",
                "a deceased or moved-out resident needs the date")
        elif status == "alive" and sdate is not None:
            err("status_date", "status_date.unexpected", "在册居民不应有死亡/迁出日期",
                "an alive resident must not have a death or move-out date")
        elif sdate is not None and sdate > today:
            err("status_date", "status_date.future", f"日期{sdate.isoformat()}晚于今天",
                f"date {sdate.isoformat()} is in the future")
        elif sdate is not None and clean.get("birth_date") and sdate < clean["birth_date"]:
            err("status_date", "status_date.before_birth", "死亡/迁出日期早于出生日期",
                "the death or move-out date is before the birth date")
        clean["status"] = status
        clean["status_date"] = sdate

    for key in ("village_code", "address", "hukou_local", "usual_local", "poverty_registered",
                "fp_special_family", "household_id"):
        if key in data:
            clean[key] = data[key]
    if "village_code" in clean and clean["village_code"] is not None:
        vc = clean["village_code"]
        if not (len(vc) == 12 and vc.isdigit()):
            err("village_code", "village_code.format", f"村级区划代码“{vc}”应为12位数字",
                f"village code '{vc}' must be 12 digits")
    elif not partial:
        err("village_code", "village_code.required", "必须指定居住村（社区）", "the village of residence is required")
    return clean, errors


def record_number(village_code: str, seq: int) -> str:
    """健康档案编号: 12-digit village code + 5-digit sequence (local)."""
    if not 1 <= seq <= 99999:
        raise ValueError(f"record sequence {seq} out of range 1–99999 for village {village_code}")
    return f"{village_code}{seq:05d}"


def household_code(village_code: str, seq: int) -> str:
    """户号: 12-digit village code + 5-digit sequence (local)."""
    if not 1 <= seq <= 99999:
        raise ValueError(f"household sequence {seq} out of range 1–99999 for village {village_code}")
    return f"{village_code}{seq:05d}"
