"""The person-file reader of `rhip mpi dedupe`: encodings, missing columns, duplicate ids, atomic output."""

from __future__ import annotations

import pandas as pd
import pytest

from rhip.mpi.csvio import PersonFileError, read_person_csv, write_clusters_atomically

HEADER = "record_id,name,id_number,sex,birth_date,phone,address\n"
ROWS = ("1,张丽,11010519491231002X,2,1949-12-31,13800138000,城关镇王庄村3组2号\n"
        "2,張麗,,女,1949/12/31,,王庄村3组\n")


@pytest.mark.parametrize("encoding,prefix,expected", [
    ("utf-8", b"", "utf-8"),
    ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
    ("gbk", b"", "gb18030"),
    ("gb18030", b"", "gb18030"),
    ("utf-16", b"", "utf-16"),  # Python writes the BOM itself
])
def test_reads_utf8_bom_gbk_gb18030_utf16(tmp_path, encoding, prefix, expected):
    p = tmp_path / "persons.csv"
    p.write_bytes(prefix + (HEADER + ROWS).encode(encoding))
    got = read_person_csv(p)
    assert got.encoding == expected
    assert list(got.frame["name"]) == ["张丽", "張麗"]
    assert got.frame.loc[1, "id_number"] is None and got.frame.loc[1, "phone"] is None


def test_undecodable_bytes_are_named(tmp_path):
    p = tmp_path / "persons.csv"
    p.write_bytes(HEADER.encode() + b"1,\x81\x20\xff\xfe,,,,,\n")
    with pytest.raises(PersonFileError) as e:
        read_person_csv(p)
    assert e.value.code == "person_file.encoding"
    assert "GBK" in e.value.message_zh and "GBK" in e.value.message_en and "line 2" in e.value.message_en


def test_missing_columns_are_named(tmp_path):
    p = tmp_path / "persons.csv"
    p.write_text("record_id,name,sex\n1,张丽,2\n", encoding="utf-8")
    with pytest.raises(PersonFileError) as e:
        read_person_csv(p)
    assert e.value.code == "person_file.missing_columns"
    for col in ("id_number", "birth_date", "phone", "address"):
        assert col in e.value.message_en and col in e.value.message_zh


def test_header_case_spaces_order_and_extra_columns(tmp_path):
    p = tmp_path / "persons.csv"
    p.write_text(" Name ,RECORD_ID,address,phone,birth_date,sex,id_number,note\n张丽,7,,,,,,x\n", encoding="utf-8")
    got = read_person_csv(p)
    assert got.frame.loc[0, "record_id"] == "7" and got.frame.loc[0, "name"] == "张丽"
    assert got.ignored_columns == ["note"]


def test_duplicate_record_ids_listed(tmp_path):
    p = tmp_path / "persons.csv"
    p.write_text(HEADER + "a,张丽,,,,,\nb,王强,,,,,\na,张莉,,,,,\nb,王强,,,,,\nc,李四,,,,,\n", encoding="utf-8")
    with pytest.raises(PersonFileError) as e:
        read_person_csv(p)
    assert e.value.code == "person_file.duplicate_record_ids"
    assert "a, b" in e.value.message_en and "2 ids" in e.value.message_en


@pytest.mark.parametrize("content,code", [
    (b"", "person_file.empty"),
    (HEADER.encode() + b",nobody,,,,,\n", "person_file.blank_record_id"),
    (b"record_id,name\x00,x\n", "person_file.binary"),
])
def test_other_unusable_files(tmp_path, content, code):
    p = tmp_path / "persons.csv"
    p.write_bytes(content)
    with pytest.raises(PersonFileError) as e:
        read_person_csv(p)
    assert e.value.code == code


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    out = tmp_path / "clusters.csv"
    out.write_text("old\n", encoding="utf-8")
    write_clusters_atomically(pd.DataFrame({"record_id": ["1", "2"], "cluster_id": ["1", "1"]}), out)
    assert out.read_text(encoding="utf-8") == "record_id,cluster_id\n1,1\n2,1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["clusters.csv"]


def test_failed_write_keeps_previous_file(tmp_path):
    out = tmp_path / "clusters.csv"
    out.write_text("old\n", encoding="utf-8")
    with pytest.raises(KeyError):
        write_clusters_atomically(pd.DataFrame({"record_id": ["1"]}), out)  # no cluster_id column
    assert out.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["clusters.csv"]
