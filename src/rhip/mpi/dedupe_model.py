"""The Fellegi–Sunter model of batch deduplication, written as Splink settings.

Every comparison mirrors a ``compare_*`` function of ``rhip.mpi.rules`` level for level (same order, same
labels, except where two fields are joined, see docs/decisions/0005-mpi-model.md), expressed in SQL over the
derived columns of ``dedupe_features``.  Besides equality, arithmetic, ``length`` and ``substr`` only two
functions are used — Levenshtein and Damerau–Levenshtein, on ASCII digits only (DuckDB counts bytes, Spark
characters) — named per dialect below, so the same settings run on DuckDB and on Spark (where Splink's
bundled similarity jar provides ``damerau_levenshtein``).

The trained parameters (m, u per level; the prior) live in a JSON file under ``rhip/mpi/data`` written
by :func:`rhip.mpi.dedupe_train.fit`; :func:`settings` rebuilds the Splink settings for any dialect and
puts the trained m/u back on each level, so the file does not depend on the engine that fitted it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from splink import SettingsCreator, block_on
import splink.comparison_level_library as cll
import splink.comparison_library as cl

__all__ = ["Model", "DEFAULT_MODEL_PATH", "comparisons", "blocking_rules", "settings", "load_model"]

DEFAULT_MODEL_PATH = Path(__file__).parent / "data" / "dedupe_model.json"

_FUNCTIONS = {
    "duckdb": {"lev": "levenshtein", "dl": "damerau_levenshtein"},
    "spark": {"lev": "levenshtein", "dl": "damerau_levenshtein"},
}


def _null(cols: list[str]) -> cll.CustomLevel:
    cond = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)
    return cll.CustomLevel(cond, "缺失 missing").configure(is_null_level=True)


def _level(sql: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(sql, label)


def _two_of_three(prefix: str) -> str:
    """Two of the three pieces (``<prefix>_a``, ``_b``, ``_c``) agree: a cheap, exact pre-condition of one
    substitution (and of most adjacent transpositions), so the edit distance runs on few pairs only."""
    a, b, c = (f"{prefix}_{x}" for x in "abc")
    return (f"(({a}_l = {a}_r AND {b}_l = {b}_r) OR ({a}_l = {a}_r AND {c}_l = {c}_r)"
            f" OR ({b}_l = {b}_r AND {c}_l = {c}_r))")


def _one_char_apart() -> str:
    """Given names of equal length differ in exactly one of their first four characters (the rest equal).
    Compared character by character with ``substr``: DuckDB's ``levenshtein`` counts UTF-8 bytes, Spark's
    counts characters, so an edit distance on Chinese text would differ between the engines."""
    diffs = " + ".join(f"CASE WHEN substr(given_l, {i}, 1) <> substr(given_r, {i}, 1) THEN 1 ELSE 0 END"
                       for i in range(1, 5))
    return f"({diffs}) = 1 AND substr(given_l, 5) = substr(given_r, 5)"


def comparisons(dialect: str) -> list[cl.CustomComparison]:
    """The four comparisons (name; ID number, else birth date; sex; phone and address), best level first."""
    f = _FUNCTIONS[dialect]
    lev, dl = f["lev"], f["dl"]
    name = cl.CustomComparison(output_column_name="name", comparison_description="姓名 name", comparison_levels=[
        _null(["name_norm"]),
        _level("name_norm_l = name_norm_r", "exact").configure(tf_adjustment_column="name_norm",
                                                              tf_adjustment_weight=1.0),
        _level("name_py_l = name_py_r", "same_pinyin"),
        _level("sur_py_l = sur_py_r AND given_sorted_l = given_sorted_r", "swapped_given"),
        _level("sur_py_l = sur_py_r AND given_len_l = given_len_r AND ("
               f"(given_len_l >= 2 AND {_one_char_apart()}) OR "
               "(given_len_l = 1 AND shape_key_l = shape_key_r))", "one_char_different_same_surname"),
        _level("sur_py_l = sur_py_r", "same_surname_only"),
        cll.ElseLevel().configure(label_for_charts="different"),
    ])
    two = _two_of_three("id")
    no_id = "(id17_l IS NULL OR id17_r IS NULL)"
    one_field = ("(CASE WHEN by_l <> by_r THEN 1 ELSE 0 END + CASE WHEN bm_l <> bm_r THEN 1 ELSE 0 END"
                 " + CASE WHEN bd_l <> bd_r THEN 1 ELSE 0 END) = 1")
    id_birth = cl.CustomComparison(
        output_column_name="id_birth", comparison_description="身份证号，缺失时出生日期 ID number, else birth date",
        comparison_levels=[
            cll.CustomLevel(f"{no_id} AND (dob_l IS NULL OR dob_r IS NULL)", "缺失 missing")
            .configure(is_null_level=True),
            _level("id17_l = id17_r AND (id_chk_l = id_chk_r OR id_chk_l IS NULL OR id_chk_r IS NULL)", "id_exact"),
            _level(f"id17_l = id17_r OR CASE WHEN {two} THEN {lev}(id17_l, id17_r) = 1 ELSE false END",
                   "id_one_digit_typo"),
            _level(f"CASE WHEN {two} THEN {dl}(id17_l, id17_r) = 1 ELSE false END", "id_transposition"),
            _level("id14_l = id14_r", "id_same_birth_and_division"),
            _level(f"NOT {no_id}", "id_different"),
            _level("dob_l = dob_r", "no_id_birth_exact"),
            _level("dob_swap_l = dob_r", "no_id_birth_day_month_swapped"),
            _level(one_field, "no_id_birth_one_field_different"),
            _level("abs(dob_days_l - dob_days_r) <= 366", "no_id_birth_within_1_year"),
            cll.ElseLevel().configure(label_for_charts="no_id_birth_different"),
        ])
    sex = cl.CustomComparison(output_column_name="sex", comparison_description="性别 sex", comparison_levels=[
        _null(["sex"]),
        _level("sex_l = sex_r", "same"),
        cll.ElseLevel().configure(label_for_charts="different"),
    ])
    no_phone = "(phone_l IS NULL OR phone_r IS NULL)"
    no_addr = ("(coalesce(addr_l, addr_village_l, addr_town_l) IS NULL"
               " OR coalesce(addr_r, addr_village_r, addr_town_r) IS NULL)")
    same_village = ("(addr_l = addr_r OR (addr_village_l = addr_village_r AND (addr_town_l = addr_town_r"
                    " OR addr_town_l IS NULL OR addr_town_r IS NULL)))")
    contact = cl.CustomComparison(
        output_column_name="contact", comparison_description="电话与住址 phone and address (one household)",
        comparison_levels=[
            cll.CustomLevel(f"{no_phone} AND {no_addr}", "缺失 missing").configure(is_null_level=True),
            _level(f"phone_l = phone_r AND {same_village}", "same_phone_same_village"),
            _level("phone_l = phone_r", "same_phone"),
            _level(f"CASE WHEN length(phone_l) = length(phone_r) AND {_two_of_three('ph')} "
                   f"THEN {lev}(phone_l, phone_r) = 1 ELSE false END OR phone8_l = phone8_r", "similar_phone"),
            _level("addr_l = addr_r", "same_address"),
            _level(same_village, "same_village"),
            _level("addr_town_l = addr_town_r", "same_township"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ])
    return [name, id_birth, sex, contact]


def blocking_rules() -> list:
    """Candidate pairs: records sharing any of these keys are compared.  The first four are the keys of
    ``rules.blocking_keys`` (ID body; pinyin + birth year; phone; village + birth date); the others catch
    combinations of faults those miss: birth date + surname reading (mistyped ID and a new phone), house
    address + surname reading (wrong year and no ID), pinyin + month and day (wrong year, moved)."""
    return [
        block_on("id17"),
        block_on("name_py", "by"),
        block_on("phone"),
        block_on("addr_village", "dob"),
        block_on("dob", "sur_py"),
        block_on("addr", "sur_py"),
        block_on("name_py", "bm", "bd"),
    ]


#: Twins: same division and birth date in the ID number (first 14 characters), another sequence code, and
#: given names that are not the same, homophones or the same characters reordered.  Fellegi–Sunter cannot tell
#: them from a duplicate with a mistyped sequence digit (shared household, phone, birth date, surname all
#: agree), so such a pair is never linked automatically, whatever its score.
TWIN_SQL = ("id14_l = id14_r AND id17_l <> id17_r AND NOT (name_norm_l = name_norm_r OR name_py_l = name_py_r"
            " OR (sur_py_l = sur_py_r AND given_sorted_l = given_sorted_r))")


#: Two different ID numbers that both pass the GB 11643 check: two people (a father and a son of the same name
#: in one household look like one person to every other field).  A single mistyped digit always breaks the
#: check character, so true duplicates almost never meet this.
VALID_IDS_DIFFER_SQL = "id_ok_l = '1' AND id_ok_r = '1' AND id17_l <> id17_r"


def guarded_pairs_sql(table: str) -> str:
    """The scored pairs of ``table`` without those the guards refuse (NULLs never refuse)."""
    return (f"SELECT * FROM {table} WHERE NOT coalesce(({TWIN_SQL}), false)"
            f" AND NOT coalesce(({VALID_IDS_DIFFER_SQL}), false)")


@dataclass
class Model:
    """Trained parameters: per comparison and level (by label) m and u; the prior expressed per record
    (``duplicates_per_record``: expected matching pairs / records, independent of file size); the decision
    threshold as a match probability; and how it was fitted."""

    levels: dict[str, dict[str, tuple[float | None, float | None]]]
    duplicates_per_record: float
    threshold: float
    fitted: dict

    def prior(self, n_records: int) -> float:
        """Probability that two random records of a file of ``n_records`` match."""
        pairs = max(n_records * (n_records - 1) / 2, 1)
        return min(max(self.duplicates_per_record * n_records / pairs, 1e-12), 0.5)

    def to_json(self) -> dict:
        return {"format": "rhip-mpi-dedupe-model/1", "duplicates_per_record": self.duplicates_per_record,
                "threshold_match_probability": self.threshold, "fitted": self.fitted,
                "comparisons": {c: {lv: {"m": m, "u": u} for lv, (m, u) in levels.items()}
                                for c, levels in self.levels.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "Model":
        levels = {c: {lv: (v["m"], v["u"]) for lv, v in lvls.items()} for c, lvls in data["comparisons"].items()}
        return cls(levels, data["duplicates_per_record"], data["threshold_match_probability"], data["fitted"])

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def weights(self) -> dict[str, dict[str, float]]:
        """log2(m/u) per level (for documentation and review screens)."""
        return {c: {lv: round(math.log2(m / u), 3) for lv, (m, u) in lvls.items() if m and u}
                for c, lvls in self.levels.items()}


def load_model(path: Path | str | None = None) -> Model:
    p = Path(path) if path else DEFAULT_MODEL_PATH
    return Model.from_json(json.loads(p.read_text(encoding="utf-8")))


def _label(level) -> str:
    creator_label = getattr(level, "label_for_charts", None)
    return creator_label if isinstance(creator_label, str) else str(level)


def settings(dialect: str, *, model: Model | None = None, n_records: int | None = None) -> SettingsCreator:
    """Splink settings for ``dialect`` ("duckdb" or "spark"); with ``model``, every level carries its trained
    m and u and the prior is scaled to a file of ``n_records``."""
    comps = comparisons(dialect)
    if model is not None:
        for comp in comps:
            trained = model.levels.get(comp._output_column_name, {})
            for level in comp._comparison_levels:
                label = _label(level)
                if label in trained and not getattr(level, "is_null_level", False):
                    m, u = trained[label]
                    level.configure(m_probability=m, u_probability=u)
    prior = model.prior(n_records) if model is not None and n_records else 1e-4
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comps,
        blocking_rules_to_generate_predictions=blocking_rules(),
        probability_two_random_records_match=prior,
        retain_matching_columns=True,  # the guards read them
        additional_columns_to_retain=["id_ok"],
        retain_intermediate_calculation_columns=False,
        max_iterations=20,
        em_convergence=0.0001,
    )
