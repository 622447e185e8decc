"""The INI reader must see exactly what botocore's raw_config_parse sees, and say where a file is broken."""

from __future__ import annotations

import os
from pathlib import Path

import botocore.configloader
import botocore.exceptions
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsdash.awsfiles.ini import parse_ini_bytes, parse_ini_text, read_ini
from stsdash.errors import FileFormatError


def botocore_view(path: Path) -> dict | Exception:
    try:
        return botocore.configloader.raw_config_parse(str(path))
    except botocore.exceptions.ConfigParseError as exc:
        return exc


def ours(path: Path) -> dict | Exception:
    try:
        return {name: sec.values for name, sec in read_ini(path).sections.items()}
    except FileFormatError as exc:
        return exc


def assert_same(path: Path) -> None:
    expected, got = botocore_view(path), ours(path)
    if isinstance(expected, Exception):
        assert isinstance(got, FileFormatError), f"botocore rejects the file ({expected}) but we read {got!r}"
    else:
        assert got == expected


CORPUS = {
    "inline comments stay": "[default]\nregion = us-east-1 # prod\noutput = json ; x\n",
    "full-line comments, indented": "# top\n; top\n[default]\n  # indented\n\t; tab\nregion = eu-west-1\n",
    "key case and colon": "[profile Dev]\nAWS_Access_Key_ID: AKIAIOSFODNN7EXAMPLE\nRegion=us-west-2\n",
    "first separator wins": "[a]\nrole_arn = arn:aws:iam::123456789012:role/x\nk:v=w\n",
    "continuation": "[a]\nk = one\n  two\n\n  three\nm = x\n",
    "nested block": "[profile a]\ns3 =\n  addressing_style = path\n  signature_version=s3v4\nregion = x\n",
    "nested with blank and comment": "[a]\ns3 =\n\n  # c\n  a = b\n\nz = 1\n",
    "DEFAULT section applies everywhere": "[DEFAULT]\nregion = x\n[a]\nk = 1\n[b]\nregion = y\n",
    "header with trailing text": "[profile a] # comment\nk = v\n",
    "header runs to last bracket": "[a]b]\nk = v\n",
    "crlf": "[a]\r\nk = v\r\n  more\r\n",
    "bare cr": "[a]\rk = v\r",
    "empty values": "[a]\nk =\nj = \n",
    "indented header after option is a continuation": "[a]\nk = v\n  [b]\n",
    "indented header first": "  [a]\n  k = v\n",
    "duplicate section": "[a]\n[b]\n[a]\n",
    "duplicate key": "[a]\nk = 1\nK = 2\n",
    "line outside section": "k = v\n[a]\n",
    "no separator": "[a]\njunk\n",
    "empty option name": "[a]\n= v\n",
    "nested line without equals": "[a]\ns3 =\n  junk\n",
    "duplicate DEFAULT key across blocks": "[DEFAULT]\nk = 1\n[DEFAULT]\nk = 2\n",
    "empty brackets": "[]\n",
    "unicode": "[profile ünï]\nk = välue\n",
}


@pytest.mark.parametrize("text", CORPUS.values(), ids=CORPUS.keys())
def test_matches_botocore(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config"
    path.write_bytes(text.encode("utf-8"))
    assert_same(path)


LINES = [
    "[default]",
    "[profile a]",
    "[profile b]",
    "[DEFAULT]",
    "[a] x",
    "[]",
    "k = v",
    "K = V",
    "k: v",
    "role_arn = arn:aws:iam::1:role/r",
    "x = y # z",
    "  nested = 1",
    "\tk = v",
    "s3 =",
    "  addressing = path",
    "# c",
    "  ; c",
    "",
    "   ",
    "junk",
    "= v",
    "  junk",
    "k=",
    "a=b=c",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(LINES), max_size=14), st.sampled_from(["\n", "\r\n"]))
def test_matches_botocore_on_generated_files(tmp_path: Path, lines: list[str], newline: str) -> None:
    path = tmp_path / "generated"
    path.write_bytes(newline.join(lines).encode("utf-8"))
    assert_same(path)


def test_sections_keep_order_and_lines() -> None:
    ini = parse_ini_text("# x\n[b]\nk = 1\n\n[a]\nregion = x\ns3 =\n  a = b\n", "cfg")
    assert list(ini.sections) == ["b", "a"]
    assert ini.sections["b"].line == 2
    assert ini.sections["a"].line == 5
    assert ini.sections["a"].key_lines == {"region": 6, "s3": 7}
    assert ini.sections["a"].values == {"region": "x", "s3": {"a": "b"}}


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"[a]\nk = 1\n[b]\n[a]\n", 4, "duplicate section [a]"),
        (b"[a]\nk = 1\nj = 2\nK = 3\n", 4, "duplicate key 'k'"),
        (b"\xef\xbb\xbf[default]\nregion = x\n", 1, "byte order mark"),
        (b"[a]\nk = 1\nj = caf\xe9\n", 3, "invalid UTF-8"),
        (b"[a]\r\nk = 1\r\nj = caf\xe9\r\n", 3, "invalid UTF-8"),
        (b"\n# c\nk = v\n[a]\n", 3, "outside any section"),
        (b"[a]\nk = 1\nnonsense\n", 3, "not a `key = value` line"),
        (b"[a]\ns3 =\n  a = b\n\n  bad\n", 5, "no `=`"),
    ],
)
def test_errors_name_the_line(tmp_path: Path, data: bytes, line: int, words: str) -> None:
    path = tmp_path / "config"
    path.write_bytes(data)
    with pytest.raises(FileFormatError) as info:
        read_ini(path)
    assert info.value.line == line
    assert words in info.value.reason
    assert f"{path}:{line}:" in str(info.value)
    # botocore rejects every one of these files too
    assert isinstance(botocore_view(path), Exception)


def test_missing_file_is_empty(tmp_path: Path) -> None:
    ini = read_ini(tmp_path / "nope")
    assert ini.sections == {}


def test_dev_null_is_empty() -> None:
    assert read_ini(Path(os.devnull)).sections == {}


def test_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="directory"):
        read_ini(tmp_path)


def test_unreadable_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config"
    path.write_text("[a]\n")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(FileFormatError, match="Permission denied"):
        read_ini(path)


def test_bom_in_text_is_rejected() -> None:
    with pytest.raises(FileFormatError):
        parse_ini_text("\ufeff[a]\n")
    with pytest.raises(FileFormatError):
        parse_ini_bytes(b"\xef\xbb\xbf")


def test_a_large_file_parses_like_botocore(tmp_path: Path) -> None:
    """5,000 profiles with comments, inline `#` and nested blocks: the same sections and values as
    botocore's own parser (how fast, from process start: bench/list_profiles.py)."""
    parts = []
    for i in range(5000):
        parts.append(
            f"[profile p{i}]\nregion = us-east-1 # c\nrole_arn = arn:aws:iam::123456789012:role/r{i}\n"
            f"source_profile = base\n; comment\ns3 =\n  addressing_style = path\n\n"
        )
    path = tmp_path / "config"
    path.write_text("".join(parts))
    ours = read_ini(path)
    theirs = botocore.configloader.raw_config_parse(str(path))
    assert list(ours.sections) == list(theirs)
    assert all(ours.sections[name].values == values for name, values in theirs.items())
