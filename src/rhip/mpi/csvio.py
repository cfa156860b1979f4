"""Reading a person file for batch deduplication, and writing the clusters atomically.

The input is a CSV with the header ``record_id,name,id_number,sex,birth_date,phone,address`` (any order,
extra columns ignored; every value may be empty except ``record_id``).  Legacy files from county systems
are often GBK: the reader takes UTF-8 (with or without BOM), UTF-16 with a BOM, and GB18030 (a superset
of GBK and GB2312), and says which one it read.  Anything it cannot use raises :class:`PersonFileError`
with a Chinese and an English message that names the problem (which columns, which bytes, which ids).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rhip.kit.errors import RhipError
from rhip.mpi.dedupe_features import INPUT_COLUMNS

__all__ = ["PersonFileError", "PersonFile", "read_person_csv", "decode", "write_clusters_atomically"]

_SHOW = 5  # how many offending ids/lines a message lists


class PersonFileError(RhipError):
    """The person file cannot be used as it is; nothing was written."""

    def __init__(self, code: str, message_zh: str, message_en: str):
        super().__init__(code=f"person_file.{code}", message_zh=message_zh, message_en=message_en, http_status=422)


@dataclass
class PersonFile:
    frame: pd.DataFrame                      # INPUT_COLUMNS, None for empty values
    encoding: str                            # what was read: utf-8, utf-8-sig, utf-16, gb18030
    ignored_columns: list[str] = field(default_factory=list)


def _where(data: bytes, pos: int) -> str:
    line = data.count(b"\n", 0, pos) + 1
    return f"{data[pos:pos + 4].hex(' ')}（第{line}行）", f"{data[pos:pos + 4].hex(' ')} (line {line}, byte {pos})"


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of a person file's bytes; raises PersonFileError when no supported encoding fits."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as e:
            zh, en = _where(data, e.start + 3)
            raise PersonFileError("encoding", f"文件以UTF-8签名(BOM)开头，但含有非UTF-8字节 {zh}",
                                  f"the file starts with a UTF-8 BOM but has bytes that are not UTF-8: {en}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise PersonFileError("encoding", "文件以UTF-16签名开头，但内容不是有效的UTF-16",
                                  "the file starts with a UTF-16 BOM but is not valid UTF-16") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            zh, en = _where(data, utf8_error.start)
            raise PersonFileError(
                "encoding",
                f"无法识别文件编码：既不是UTF-8也不是GBK/GB18030，第一个无法解码的字节为 {zh}。请另存为UTF-8或GBK后重试",
                f"unknown encoding: the file is neither UTF-8 nor GBK/GB18030; the first undecodable bytes are {en}. "
                "Save it as UTF-8 or GBK and try again") from None


def read_person_csv(path: Path | str) -> PersonFile:
    p = Path(path)
    if not p.is_file():
        raise PersonFileError("not_found", f"文件不存在：{p}", f"file not found: {p}")
    data = p.read_bytes()
    if not data.strip():
        raise PersonFileError("empty", f"文件为空：{p}", f"the file is empty: {p}")
    text, encoding = decode(data)
    if "\x00" in text:
        raise PersonFileError("binary", "文件含有空字节(NUL)，不是文本CSV文件（是否为Excel文件？请另存为CSV）",
                              "the file contains NUL bytes: it is not a text CSV (an Excel file? save it as CSV)")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;|")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.ParserError as e:
        raise PersonFileError("parse", f"CSV格式错误：{e}", f"malformed CSV: {e}") from None
    frame.columns = [str(c).strip().lstrip("\ufeff").lower() for c in frame.columns]
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns[:12]) or "—"
        raise PersonFileError(
            "missing_columns", f"缺少列：{', '.join(missing)}（文件中的列：{found}；需要 {','.join(INPUT_COLUMNS)}）",
            f"missing columns: {', '.join(missing)} (the file has: {found}; expected {','.join(INPUT_COLUMNS)})")
    dup_cols = [c for c in INPUT_COLUMNS if list(frame.columns).count(c) > 1]
    if dup_cols:
        raise PersonFileError("duplicate_columns", f"列名重复：{', '.join(dup_cols)}",
                              f"duplicate column names: {', '.join(dup_cols)}")
    ignored = [c for c in frame.columns if c not in INPUT_COLUMNS]
    frame = frame[list(INPUT_COLUMNS)].copy()
    for c in INPUT_COLUMNS:
        frame[c] = frame[c].str.strip()
    blank_ids = frame.index[frame["record_id"] == ""]
    if len(blank_ids):
        lines = ", ".join(str(i + 2) for i in blank_ids[:_SHOW])
        raise PersonFileError("blank_record_id", f"{len(blank_ids)}行缺少record_id（第{lines}行…）",
                              f"{len(blank_ids)} rows have no record_id (lines {lines}…)")
    dups = frame["record_id"][frame["record_id"].duplicated(keep=False)]
    if len(dups):
        shown = list(dict.fromkeys(dups))[:_SHOW]
        n = dups.nunique()
        raise PersonFileError(
            "duplicate_record_ids",
            f"record_id重复：{n}个编号出现多次，例如 {', '.join(shown)}。每条记录须有唯一编号",
            f"duplicate record_ids: {n} ids occur more than once, e.g. {', '.join(shown)}; every record needs its own id")
    frame = frame.astype(object).where(frame != "", None)
    return PersonFile(frame, encoding, ignored)


def write_clusters_atomically(clusters: pd.DataFrame, path: Path | str) -> None:
    """Write ``record_id,cluster_id`` as UTF-8 CSV: into a temporary file beside ``path``, then renamed over
    it, so a failed run leaves no file (or the previous one) behind."""
    p = Path(path)
    if not p.parent.is_dir():
        raise PersonFileError("output_dir", f"输出目录不存在：{p.parent}", f"output directory does not exist: {p.parent}")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            clusters[["record_id", "cluster_id"]].to_csv(fh, index=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
