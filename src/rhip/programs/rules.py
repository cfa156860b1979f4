"""Domain rules of the national basic public-health service programmes (国家基本公共卫生服务).

Pure functions over plain data; the only I/O is reading the packaged, versioned rule data under
``rhip/programs/data/`` (``importlib.resources``). Rules marked (local) or (verify) in DOMAIN.md are
data or parameters with documented defaults, never code branches. The implementation is split by
programme; this module is the one place callers import from:

* :mod:`rules_common` — month arithmetic (29 February ages on 1 March), enums, ``load_schedule``;
* :mod:`rules_visits` — ``visits_due``, ``managed_per_spec``, ``latest_control_status``;
* :mod:`rules_immunization` — ``immunizations_due``;
* :mod:`rules_chronic` — hypertension, diabetes, severe mental illness, TB decisions;
* :mod:`rules_maternal` — pregnancy five-colour risk;
* :mod:`rules_validation` — measurement plausibility with bilingual messages.
"""

from rhip.programs.rules_chronic import (
    Assessment, DiabetesFollowUp, HypertensionFollowUp, SmiAssessment, assess_smi, classify_diabetes,
    classify_hypertension, danger_sign_codes, tb_regular_intake,
)
from rhip.programs.rules_common import (
    PROGRAMS, ControlStatus, NextStep, Offset, Reason, Schedule, ScheduleItem, VisitStatus, add_months,
    age_in_months, age_on, load_schedule, schedule_versions,
)
from rhip.programs.rules_immunization import Due, immunization_schedule_for, immunizations_due
from rhip.programs.rules_maternal import RiskAssessment, assess_pregnancy_risk, load_risk_scheme
from rhip.programs.rules_validation import MEASUREMENT_RANGES, Range, ValidationIssue, validate_followup
from rhip.programs.rules_visits import DueVisit, latest_control_status, managed_per_spec, visits_due

__all__ = [
    "PROGRAMS", "Assessment", "ControlStatus", "DiabetesFollowUp", "Due", "DueVisit", "HypertensionFollowUp",
    "MEASUREMENT_RANGES", "NextStep", "Offset", "Range", "Reason", "RiskAssessment", "Schedule", "ScheduleItem",
    "SmiAssessment", "ValidationIssue", "VisitStatus", "add_months", "age_in_months", "age_on", "assess_pregnancy_risk",
    "assess_smi", "classify_diabetes", "classify_hypertension", "danger_sign_codes", "immunization_schedule_for",
    "immunizations_due", "latest_control_status", "load_risk_scheme", "load_schedule", "managed_per_spec",
    "schedule_versions", "tb_regular_intake", "validate_followup", "visits_due",
]
