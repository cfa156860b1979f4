"""Treatment in the synthetic county: why people are admitted, what they take, what they are allergic to, and the
discharge summary of a stay (pure Python, runs in worker processes).

Medicines are coded with WHO ATC codes (``http://www.whocc.no/atc``) and shown with the Chinese product name and
strength; dosage as text plus one structured dose, a frequency and a route, as ``records.models_medication``
keeps them. Allergies are SNOMED CT "allergy to …" codes.
"""

from __future__ import annotations

from dataclasses import dataclass

ATC = "http://www.whocc.no/atc"
SNOMED = "http://snomed.info/sct"


@dataclass(frozen=True)
class Drug:
    code: str  # ATC
    display: str  # product and strength
    dose: float
    unit: str
    per_day: int  # administrations a day
    route: str
    text: str  # dosage as the prescription prints it


D = Drug
# Long-term treatment by chronic condition: [(drug, weight)]; a patient takes one or two of them.
CHRONIC_DRUGS = {
    "I10": ((D("C08CA01", "苯磺酸氨氯地平片 5mg", 5, "mg", 1, "口服", "每日1次，每次1片，口服"), 35),
            (D("C08CA05", "硝苯地平缓释片 20mg", 20, "mg", 2, "口服", "每日2次，每次1片，口服"), 20),
            (D("C09CA04", "厄贝沙坦片 150mg", 150, "mg", 1, "口服", "每日1次，每次1片，口服"), 15),
            (D("C09CA03", "缬沙坦胶囊 80mg", 80, "mg", 1, "口服", "每日1次，每次1粒，口服"), 12),
            (D("C07AB02", "琥珀酸美托洛尔缓释片 47.5mg", 47.5, "mg", 1, "口服", "每日1次，每次1片，口服"), 10),
            (D("C03AA03", "氢氯噻嗪片 25mg", 12.5, "mg", 1, "口服", "每日1次，每次半片，口服"), 8)),
    "E11.9": ((D("A10BA02", "盐酸二甲双胍片 0.5g", 500, "mg", 3, "口服", "每日3次，每次1片，餐中或餐后口服"), 55),
              (D("A10BB12", "格列美脲片 2mg", 2, "mg", 1, "口服", "每日1次，每次1片，早餐前口服"), 15),
              (D("A10BF01", "阿卡波糖片 50mg", 50, "mg", 3, "口服", "每日3次，每次1片，随第一口饭嚼服"), 20),
              (D("A10AE04", "甘精胰岛素注射液 300单位/3ml", 12, "U", 1, "皮下注射",
                 "每日1次，每次12单位，睡前皮下注射"), 10)),
    "J44.9": ((D("R03BB04", "噻托溴铵粉吸入剂 18μg", 18, "ug", 1, "吸入", "每日1次，每次1粒，吸入"), 70),
              (D("R03AK06", "沙美特罗替卡松粉吸入剂 50μg/250μg", 1, "吸", 2, "吸入", "每日2次，每次1吸"), 30)),
    "I69.3": ((D("B01AC06", "阿司匹林肠溶片 100mg", 100, "mg", 1, "口服", "每日1次，每次1片，口服"), 60),
              (D("C10AA05", "阿托伐他汀钙片 20mg", 20, "mg", 1, "口服", "每晚1次，每次1片，口服"), 40)),
}
AZITHROMYCIN = D("J01FA10", "注射用阿奇霉素 0.5g", 500, "mg", 1, "静脉滴注", "每日1次，每次0.5g，静脉滴注")

# Reasons for admission: (ICD-10, display, min age, max age, sex or None, weight, needs condition, orders)
ADMISSIONS = (
    ("J18.9", "肺炎", 0, 120, None, 18, None,
     (D("J01DD04", "注射用头孢曲松钠 1g", 2, "g", 1, "静脉滴注", "每日1次，每次2g，静脉滴注"),)),
    ("J21.9", "急性毛细支气管炎", 0, 1, None, 20, None,
     (D("R03BA02", "吸入用布地奈德混悬液 1mg/2ml", 1, "mg", 2, "雾化吸入", "每日2次，每次1mg，雾化吸入"),)),
    ("J20.9", "急性支气管炎", 0, 14, None, 14, None,
     (D("J01CR02", "阿莫西林克拉维酸钾干混悬剂 228.5mg", 228.5, "mg", 2, "口服", "每日2次，每次1袋，口服"),)),
    ("A09.9", "感染性腹泻", 0, 14, None, 10, None,
     (D("A07CA", "口服补液盐散(Ⅲ)", 1, "袋", 3, "口服", "每日3次，每次1袋，溶于250ml温水口服"),)),
    ("K52.9", "急性胃肠炎", 15, 120, None, 6, None,
     (D("A02BC01", "注射用奥美拉唑钠 40mg", 40, "mg", 1, "静脉滴注", "每日1次，每次40mg，静脉滴注"),)),
    ("J44.1", "慢性阻塞性肺疾病急性加重", 40, 120, None, 30, "J44.9",
     (D("H02AB04", "注射用甲泼尼龙琥珀酸钠 40mg", 40, "mg", 1, "静脉注射", "每日1次，每次40mg，静脉注射"),
      D("R03BA02", "吸入用布地奈德混悬液 1mg/2ml", 1, "mg", 2, "雾化吸入", "每日2次，每次1mg，雾化吸入"))),
    ("I63.9", "脑梗死", 45, 120, None, 8, None,
     (D("B01AC06", "阿司匹林肠溶片 100mg", 100, "mg", 1, "口服", "每日1次，每次1片，口服"),
      D("C10AA05", "阿托伐他汀钙片 20mg", 20, "mg", 1, "口服", "每晚1次，每次1片，口服"))),
    ("I20.0", "不稳定型心绞痛", 45, 120, None, 8, None,
     (D("C01DA14", "单硝酸异山梨酯缓释片 40mg", 40, "mg", 1, "口服", "每日1次，每次1片，口服"),
      D("B01AC06", "阿司匹林肠溶片 100mg", 100, "mg", 1, "口服", "每日1次，每次1片，口服"))),
    ("I50.9", "心力衰竭", 60, 120, None, 6, None,
     (D("C03CA01", "呋塞米注射液 20mg/2ml", 20, "mg", 1, "静脉注射", "每日1次，每次20mg，静脉注射"),)),
    ("I10", "原发性高血压（3级，很高危）", 35, 120, None, 10, "I10",
     (D("C08CA01", "苯磺酸氨氯地平片 5mg", 5, "mg", 1, "口服", "每日1次，每次1片，口服"),)),
    ("E11.9", "2型糖尿病（血糖控制不佳）", 35, 120, None, 14, "E11.9",
     (D("A10AB05", "门冬胰岛素注射液 300单位/3ml", 6, "U", 3, "皮下注射", "每日3次，每次6单位，餐前皮下注射"),)),
    ("K81.0", "急性胆囊炎", 30, 120, None, 5, None,
     (D("J01DD04", "注射用头孢曲松钠 1g", 2, "g", 1, "静脉滴注", "每日1次，每次2g，静脉滴注"),)),
    ("K35.8", "急性阑尾炎", 8, 60, None, 6, None,
     (D("J01DC02", "注射用头孢呋辛钠 1.5g", 1.5, "g", 2, "静脉滴注", "每日2次，每次1.5g，静脉滴注"),)),
    ("N39.0", "泌尿系感染", 15, 120, "2", 6, None,
     (D("J01MA12", "左氧氟沙星氯化钠注射液 0.5g", 0.5, "g", 1, "静脉滴注", "每日1次，每次0.5g，静脉滴注"),)),
    ("S72.0", "股骨颈骨折", 65, 120, None, 4, None,
     (D("B01AB05", "依诺肝素钠注射液 4000AxaIU/0.4ml", 4000, "IU", 1, "皮下注射", "每日1次，每次0.4ml，皮下注射"),)),
    ("O80", "单胎顺产", 20, 40, "2", 40, None,
     (D("H01BB02", "缩宫素注射液 10单位", 10, "U", 1, "肌内注射", "产后即刻10单位，肌内注射"),)),
)
INFECTIONS = ("J18", "J20", "J21", "J44", "A09", "K81", "K35", "N39")
TREATMENT = {
    "J": "予抗感染、化痰、平喘等对症支持治疗", "A": "予补液、纠正电解质紊乱、调节肠道菌群等治疗",
    "K": "予抗感染、解痉、补液等治疗", "I": "予抗血小板、调脂稳斑、控制血压、改善循环等治疗",
    "E": "予胰岛素强化降糖、糖尿病饮食指导及健康教育", "N": "予抗感染、多饮水等治疗",
    "S": "予骨科会诊、制动、抗凝预防血栓、镇痛等治疗", "O": "顺利分娩，予产后宫缩、会阴护理及母乳喂养指导",
}
# (SNOMED CT code, display, category, share of people, reactions)
ALLERGIES = (
    ("91936005", "青霉素过敏", "medication", 0.030, ("皮疹", "荨麻疹", "呼吸困难")),
    ("91939003", "磺胺类药物过敏", "medication", 0.008, ("皮疹", "瘙痒")),
    ("91931000", "红霉素过敏", "medication", 0.003, ("皮疹", "恶心")),
    ("91937001", "海鲜过敏", "food", 0.010, ("荨麻疹", "瘙痒")),
    ("91930004", "鸡蛋过敏", "food", 0.004, ("湿疹", "呕吐")),
)


def pick(rng, weighted):
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for item, w in weighted:
        x -= w
        if x < 0:
            return item
    return weighted[-1][0]


def admission_reason(rng, age: int, sex: str, chronic: list[str]) -> tuple:
    """(ICD-10, display, orders) of an admission, weighted by what fits the person."""
    fits = []
    for code, display, lo, hi, only_sex, weight, needs, orders in ADMISSIONS:
        if lo <= age <= hi and (only_sex is None or only_sex == sex) and (needs is None or needs in chronic):
            if code == "O80" and rng.random() < 0.7:  # most admissions of young women are not deliveries
                continue
            w = weight * (2.5 if code in ("I63.9", "I20.0") and "I10" in chronic else 1)
            w = w * (3 if code == "J18.9" and (age < 6 or age >= 70) else 1)
            fits.append(((code, display, orders), w))
    return pick(rng, fits)


def regimen(rng, chronic: list[str]) -> list[tuple[str, Drug]]:
    """The long-term drugs of a chronic patient: (condition, drug), one or two per condition."""
    out = []
    for cond in chronic:
        options = CHRONIC_DRUGS[cond]
        first = pick(rng, options)
        out.append((cond, first))
        if rng.random() < (0.35 if cond in ("I10", "I69.3") else 0.2):
            second = pick(rng, options)
            if second.code != first.code:
                out.append((cond, second))
    return out


def discharge_summary(*, admitted: str, discharged: str, days: int, reason: tuple, chronic_displays: list[str],
                      findings: list[str], orders: list[Drug], home_drugs: list[Drug], org_name: str) -> str:
    """The discharge summary (出院小结) of a stay as plain text."""
    code, display, _ = reason
    diagnoses = [f"{display}（{code}）"] + [d for d in chronic_displays if d != display]
    lines = [
        f"{org_name}  出院小结", "",
        f"入院日期：{admitted}    出院日期：{discharged}    住院天数：{days}天",
        f"入院诊断：{display}",
        "出院诊断：" + "；".join(f"{i}. {d}" for i, d in enumerate(diagnoses, 1)),
        f"诊疗经过：入院后完善相关检查，{TREATMENT.get(code[0], '予对症支持治疗')}"
        + ("；住院期间用药：" + "、".join(dict.fromkeys(o.display for o in orders)) if orders else "") + "。",
        "主要检查结果：" + ("；".join(findings) if findings else "未见明显异常") + "。",
        "出院情况：患者一般情况可，生命体征平稳，病情好转，准予出院。",
        "出院医嘱：1. 注意休息，合理饮食，避免劳累；"
        + ("2. 继续服药：" + "；".join(f"{d.display}，{d.text}" for d in home_drugs) + "；3. " if home_drugs else "2. ")
        + "2周后门诊复查，由家庭医生团队随访，如有不适随时就诊。",
    ]
    return "\n".join(lines)
