"""What each programme's follow-up form asks (国家基本公共卫生服务规范 2017 follow-up records), as data the
service, the API schema and the console form share.

Each field: (name, kind, zh label, en label, required?, choices). Kinds: int, float, bool, text, choice,
multi (several choices), date. Measurements are checked by ``rules_validation.validate_followup``.
"""

from __future__ import annotations

SYMPTOMS = (("none", "无症状"), ("headache_dizziness", "头痛头晕"), ("nausea_vomiting", "恶心呕吐"),
            ("tinnitus", "眼花耳鸣"), ("dyspnoea", "呼吸困难"), ("palpitations", "心悸胸闷"),
            ("nosebleed", "鼻衄出血不止"), ("limb_numbness", "四肢发麻"), ("oedema", "下肢水肿"),
            ("polydipsia", "多饮"), ("polyphagia", "多食"), ("polyuria", "多尿"), ("blurred_vision", "视力模糊"),
            ("infection", "感染"), ("weight_loss", "体重明显下降"))
ADHERENCE = (("regular", "规律"), ("intermittent", "间断"), ("none", "不服药"))
WAYS = (("clinic", "门诊"), ("home", "家庭"), ("phone", "电话"))
SALT = (("light", "轻"), ("moderate", "中"), ("heavy", "重"))
COMPLIANCE = (("good", "良好"), ("fair", "一般"), ("poor", "差"))

COMMON = (
    ("way", "choice", "随访方式", "way of follow-up", True, WAYS),
)
CHRONIC_LIFESTYLE = (
    ("symptoms", "multi", "症状", "symptoms", False, SYMPTOMS),
    ("weight", "float", "体重（kg）", "weight (kg)", False, None),
    ("height", "float", "身高（cm）", "height (cm)", False, None),
    ("heart_rate", "int", "心率（次/分）", "heart rate (/min)", False, None),
    ("smoking_per_day", "int", "日吸烟量（支）", "cigarettes a day", False, None),
    ("drinking_per_day", "float", "日饮酒量（两）", "alcohol a day (liang)", False, None),
    ("exercise_per_week", "int", "运动（次/周）", "exercise (times a week)", False, None),
    ("salt", "choice", "摄盐情况", "salt intake", False, SALT),
    ("compliance", "choice", "遵医行为", "compliance", False, COMPLIANCE),
    ("adherence", "choice", "服药依从性", "medication adherence", True, ADHERENCE),
    ("adverse_reaction", "bool", "药物不良反应", "adverse drug reaction", False, None),
    ("adverse_reaction_text", "text", "不良反应描述", "adverse reaction (describe)", False, None),
    ("new_complication", "bool", "新发或加重的并发症", "new or worse complication", False, None),
    ("danger_signs", "multi", "危急情况", "danger signs", False, "danger_signs"),
)
FORMS: dict[str, tuple] = {
    "hypertension": COMMON + (
        ("sbp", "int", "收缩压（mmHg）", "systolic (mmHg)", True, None),
        ("dbp", "int", "舒张压（mmHg）", "diastolic (mmHg)", True, None),
    ) + CHRONIC_LIFESTYLE,
    "diabetes": COMMON + (
        ("fasting_glucose", "float", "空腹血糖（mmol/L）", "fasting glucose (mmol/L)", True, None),
        ("sbp", "int", "收缩压（mmHg）", "systolic (mmHg)", False, None),
        ("dbp", "int", "舒张压（mmHg）", "diastolic (mmHg)", False, None),
    ) + CHRONIC_LIFESTYLE,
    "smi": COMMON + (
        ("risk_grade", "int", "危险性评估（0～5级）", "risk grade (0-5)", True, None),
        ("symptoms_or_insight_poor", "bool", "精神症状、自知力或社会功能较差", "poor symptoms, insight or social "
                                                                              "function", False, None),
        ("severe_adverse_reaction_or_somatic", "bool", "严重药物不良反应或躯体疾病", "severe adverse reaction or "
                                                                                   "somatic disease", False, None),
        ("adherence", "choice", "服药依从性", "medication adherence", True, ADHERENCE),
    ),
    "pregnancy": COMMON + (
        ("gestational_weeks", "int", "孕周", "gestational weeks", False, None),
        ("sbp", "int", "收缩压（mmHg）", "systolic (mmHg)", False, None),
        ("dbp", "int", "舒张压（mmHg）", "diastolic (mmHg)", False, None),
        ("weight", "float", "体重（kg）", "weight (kg)", False, None),
        ("risk_factors", "multi", "妊娠风险因素", "pregnancy risk factors", False, "risk_factors"),
        ("delivery_date", "date", "分娩日期（产后访视填写）", "delivery date (postpartum visits)", False, None),
    ),
    "child": COMMON + (
        ("weight", "float", "体重（kg）", "weight (kg)", True, None),
        ("height", "float", "身长/身高（cm）", "length/height (cm)", True, None),
        ("haemoglobin", "float", "血红蛋白（g/L）", "haemoglobin (g/L)", False, None),
        ("development_ok", "bool", "发育评估通过", "development check passed", False, None),
    ),
    "elderly": COMMON + (
        ("sbp", "int", "收缩压（mmHg）", "systolic (mmHg)", False, None),
        ("dbp", "int", "舒张压（mmHg）", "diastolic (mmHg)", False, None),
        ("weight", "float", "体重（kg）", "weight (kg)", False, None),
        ("self_care_score", "int", "生活自理能力评分", "self-care score", False, None),
    ),
    "tb": COMMON + (
        ("doses_planned", "int", "应服药次数", "doses planned", False, None),
        ("doses_taken", "int", "实际服药次数", "doses taken", False, None),
        ("adverse_reaction", "bool", "药物不良反应", "adverse drug reaction", False, None),
    ),
}
NOTE = ("note", "text", "备注/指导", "note / advice", False, None)
PAEDIATRIC_RANGES = {"weight": (0.5, 60.0), "height": (30.0, 150.0)}


def fields_of(program: str) -> tuple:
    return FORMS[program] + (NOTE,)
