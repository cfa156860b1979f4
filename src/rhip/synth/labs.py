"""Lab panels and exam reports of the synthetic county (pure Python, runs in worker processes).

A lab panel is a DiagnosticReport (category LAB, LOINC panel code) with its results as Observations (LOINC,
UCUM unit, the adult reference interval of the Chinese health standards WS/T 404 and WS/T 405 — sex-specific
where they are — and an interpretation H/L/N, or A for an abnormal qualitative urine result). An exam report
(chest X-ray, ECG, abdominal ultrasound) is a DiagnosticReport with a conclusion in Chinese and no results.

Values are drawn around typical means for rural Chinese adults and shifted by what the generator knows of the
person (sex, age, diabetes, hypertension, an infection on admission); every value lies inside the plausible
ranges that ``records.rules`` enforces on the API.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"


@dataclass(frozen=True)
class Analyte:
    code: str
    display: str
    unit: str | None
    ref: tuple  # (low, high) for both sexes, or ((male low, high), (female low, high)) when sex-specific
    mean: tuple  # (male mean, female mean)
    sd: float
    decimals: int
    bounds: tuple[float, float]  # values are clipped into these (always inside records.rules' plausible range)

    def ref_for(self, sex: str) -> tuple:
        return self.ref[0 if sex == "1" else 1] if isinstance(self.ref[0], tuple) else self.ref


def _a(code, display, unit, ref, mean, sd, decimals, bounds):
    return Analyte(code, display, unit, ref, mean if isinstance(mean, tuple) else (mean, mean), sd, decimals, bounds)


# The items of the national basic public-health service's annual health check of the elderly (血常规: haemoglobin,
# white cells (+ neutrophil share), platelets; 尿常规 dipstick; 肝功能 ALT/AST/total bilirubin; 肾功能 creatinine/urea;
# 血脂; 空腹血糖). A hospital prints more items per panel; fewer keep the generator fast.
# Adult reference intervals: WS/T 405-2012 (blood cell analysis), WS/T 404 (biochemistry); lipids and glucose as
# commonly printed by Chinese labs (血脂异常防治指南 cut-offs).
CBC = (
    _a("6690-2", "白细胞计数", "10*9/L", (3.5, 9.5), 6.3, 1.6, 2, (1.5, 40.0)),
    _a("718-7", "血红蛋白", "g/L", ((130, 175), (115, 150)), (146, 128), 12, 0, (60, 200)),
    _a("777-3", "血小板计数", "10*9/L", (125, 350), 225, 55, 0, (30, 700)),
    _a("770-8", "中性粒细胞百分比", "%", (40, 75), 59, 8, 1, (20, 95)),
)
LIVER = (
    _a("1742-6", "丙氨酸氨基转移酶", "U/L", ((9, 50), (7, 40)), (26, 20), 10, 0, (3, 400)),
    _a("1920-8", "天门冬氨酸氨基转移酶", "U/L", ((15, 40), (13, 35)), (25, 22), 7, 0, (5, 400)),
    _a("14631-6", "总胆红素", "umol/L", (3.4, 20.5), (13, 11), 4, 1, (2.0, 120.0)),
)
KIDNEY = (
    _a("14682-9", "肌酐", "umol/L", ((57, 111), (41, 81)), (80, 62), 13, 0, (30, 600)),
    _a("22664-7", "尿素", "mmol/L", ((3.1, 8.0), (2.6, 7.5)), (5.4, 4.9), 1.3, 2, (1.5, 30.0)),
)
LIPIDS = (
    _a("14647-2", "总胆固醇", "mmol/L", (None, 5.2), 4.8, 0.9, 2, (2.2, 10.0)),
    _a("14927-8", "甘油三酯", "mmol/L", (None, 1.7), 1.5, 0.7, 2, (0.3, 8.0)),
    _a("14646-4", "高密度脂蛋白胆固醇", "mmol/L", (1.0, None), (1.2, 1.4), 0.28, 2, (0.5, 2.8)),
    _a("22748-8", "低密度脂蛋白胆固醇", "mmol/L", (None, 3.4), 2.9, 0.8, 2, (0.8, 7.0)),
)
HBA1C = (_a("4548-4", "糖化血红蛋白", "%", (4.0, 6.0), 5.5, 0.4, 1, (3.5, 15.0)),)
GLUCOSE = (_a("1558-6", "空腹血糖", "mmol/L", (3.9, 6.1), 5.2, 0.55, 1, (3.0, 25.0)),)
URINE_NUMERIC: tuple = ()  # (pH and specific gravity are not generated: volume)
# (code, display, probability of a positive result: (base, with diabetes, with hypertension))
URINE_QUALITATIVE = (
    ("5804-0", "尿蛋白", (0.04, 0.12, 0.10)),
    ("5792-7", "尿糖", (0.01, 0.25, 0.01)),
    ("5794-3", "尿隐血", (0.06, 0.07, 0.07)),
)
UNIT_TEXT = {"10*9/L": "×10⁹/L", "10*12/L": "×10¹²/L", "umol/L": "μmol/L", "[pH]": ""}  # UCUM → as printed
POSITIVE = ("弱阳性(±)", "阳性(+)", "阳性(++)")

# panel key → (report code, report display, analytes)
PANELS = {
    "cbc": ("58410-2", "血常规", CBC),
    "liver": ("24325-3", "肝功能", LIVER),
    "kidney": ("24362-6", "肾功能", KIDNEY),
    "lipids": ("57698-3", "血脂", LIPIDS),
    "hba1c": ("4548-4", "糖化血红蛋白", HBA1C),
    "glucose": ("1558-6", "空腹血糖", GLUCOSE),
    "urine": ("24357-6", "尿常规", URINE_NUMERIC),
}

# Exam reports: key → (LOINC, display, v2-0074 category, [(conclusion, weight)])
EXAMS = {
    "ecg": ("11524-6", "心电图", "EC", (
        ("窦性心律，正常心电图", 60), ("窦性心动过缓", 8), ("窦性心律，ST-T改变", 12), ("窦性心律，左心室高电压", 6),
        ("窦性心律，偶发室性早搏", 6), ("窦性心律，完全性右束支传导阻滞", 4), ("心房颤动", 3))),
    "cxr": ("36643-5", "胸部X线检查", "RAD", (
        ("心肺膈未见明显异常", 72), ("双肺纹理增粗", 16), ("主动脉迂曲、硬化", 9), ("双肺陈旧性病灶", 3))),
    "us": ("24558-9", "腹部B超", "US", (
        ("肝胆胰脾双肾未见明显异常", 60), ("脂肪肝", 20), ("胆囊结石", 6), ("肝囊肿", 6), ("肾囊肿", 6),
        ("胆囊息肉", 2))),
}
# Conclusions that follow from the reason for admission (ICD-10 prefix → exam → conclusion)
EXAM_FINDINGS = {
    "J18": {"cxr": "右下肺斑片状影，考虑肺炎"}, "J20": {"cxr": "双肺纹理增粗、模糊"},
    "J21": {"cxr": "双肺纹理增粗、模糊"}, "J44": {"cxr": "双肺透亮度增加，肺气肿征象"},
    "I50": {"cxr": "心影增大，双肺淤血", "ecg": "窦性心动过速，ST-T改变"}, "I20": {"ecg": "窦性心律，ST-T改变"},
    "I63": {"ecg": "窦性心律，ST-T改变"}, "K81": {"us": "胆囊增大，壁增厚毛糙，考虑胆囊炎"},
    "K35": {"us": "右下腹阑尾区低回声包块，考虑阑尾炎"},
}


def _pick(rng, weighted) -> str:
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for item, w in weighted:
        x -= w
        if x < 0:
            return item
    return weighted[-1][0]


def exam_conclusion(rng, exam: str, reason: str | None) -> str:
    found = EXAM_FINDINGS.get((reason or "")[:3], {}).get(exam)
    if found and rng.random() < 0.85:
        return found
    return _pick(rng, EXAMS[exam][3])


@dataclass(frozen=True)
class Person:
    """What the lab values depend on."""

    sex: str
    age: int
    diabetic: bool
    hypertensive: bool


def _shift(code: str, p: Person, infection: bool) -> float:
    """A person's mean shift for an analyte (same unit)."""
    s = 0.0
    if infection:
        s += {"6690-2": 4.5, "770-8": 14}.get(code, 0.0)
    if p.age >= 65:
        s += {"718-7": -6, "14682-9": 8, "22664-7": 0.6}.get(code, 0.0)
    if p.age >= 45:
        s += {"14647-2": 0.3, "22748-8": 0.3, "14927-8": 0.2}.get(code, 0.0)
    if p.hypertensive:
        s += {"14682-9": 6, "14927-8": 0.2}.get(code, 0.0)
    if p.diabetic:
        s += {"4548-4": 1.9, "14927-8": 0.4}.get(code, 0.0)
    return s


_params: dict[tuple, tuple] = {}


def _param(a: Analyte, p: Person, infection: bool) -> tuple:
    key = (a.code, p.sex, p.age >= 65, p.age >= 45, p.diabetic, p.hypertensive, infection)
    got = _params.get(key)
    if got is None:
        sd = a.sd * (1.5 if p.diabetic and a.code == "4548-4" else 1.0)
        got = _params[key] = (a.mean[0 if p.sex == "1" else 1] + _shift(a.code, p, infection), sd,
                              *a.bounds, *a.ref_for(p.sex))
    return got


def value(rng, a: Analyte, p: Person, infection: bool = False) -> tuple[float, float | None, float | None, str]:
    """(value, ref low, ref high, interpretation) of one result."""
    mean, sd, lo, hi, rlo, rhi = _param(a, p, infection)
    v = round(min(hi, max(lo, rng.gauss(mean, sd))), a.decimals)
    if a.decimals == 0:
        v = float(int(v))
    interp = "H" if rhi is not None and v > rhi else "L" if rlo is not None and v < rlo else "N"
    return v, rlo, rhi, interp


def qualitative(rng, probs: tuple[float, float, float], p: Person) -> tuple[str, str]:
    chance = max(probs[0], probs[1] if p.diabetic else 0.0, probs[2] if p.hypertensive else 0.0)
    if rng.random() < chance:
        return POSITIVE[min(2, int(rng.random() * 3))], "A"
    return "阴性(-)", "N"
