"""The migrated schema has every index the models declare, with the same columns: a fresh schema built from the
models (``create_all``) and a migrated one are searched with the same indexes."""

from __future__ import annotations

from sqlalchemy import inspect

from rhip.kit.db import Base, make_engine
from rhip.kit.migrate import import_all_models


def test_every_model_index_is_migrated(db_url):
    import_all_models()
    declared = {(t.name, ix.name): [c.name for c in ix.columns] for t in Base.metadata.sorted_tables
                for ix in t.indexes}
    engine = make_engine(db_url)
    try:
        insp = inspect(engine)
        migrated = {(t, ix["name"]): ix["column_names"] for t in {t for t, _ in declared} for ix in insp.get_indexes(t)}
    finally:
        engine.dispose()
    assert {k: v for k, v in declared.items() if migrated.get(k) != v} == {}
    # the indexes of type history (migration 0011) among them
    assert migrated[("observation", "ix_observation_updated")] == ["updated_at", "id", "resident_id"]
    assert migrated[("resource_history", "ix_resource_history_type_updated")] == [
        "resource_type", "last_updated", "resource_id", "version_id", "resident_id"]
