"""`.helmignore` and Go's `filepath.Match`, case by case: each expectation below was checked against helm
3.22 and 4.3 (`tests/build/test_helmignore_oracle.py` compares generated cases with helm itself)."""

from __future__ import annotations

import pytest

from toolkit.core.archive import chart_files
from toolkit.core.gomatch import BadPattern, go_match, go_trim_space
from toolkit.core.helmignore import parse_helmignore
from toolkit.errors import InputError

FILES = ("Chart.yaml", "a", "!", "b", "foo", "ab", "x/a", "x/foo", "templates/.hidden", "templates/cm.yaml")


def kept(helmignore: bytes | str, files: tuple[str, ...] = FILES, helm_major: int = 3) -> set[str]:
    return parse_helmignore(helmignore, helm_major=helm_major).select(files)


@pytest.mark.parametrize(("pattern", "name", "matches"), [
    ("[!a]", "!", True),  # Go has no `!` negation: the class holds `!` and `a`
    ("[!a]", "b", False),
    ("[^a]", "b", True),
    ("a*", "a/b", False),  # `*` stops at `/`
    ("*", "", True),
    ("a?c", "a/c", False),
    ("\\*", "*", True),
    ("[é]", "é", True),  # a class matches a whole rune
    ("?", "é", True),
    (".*\\", "abc", False),  # bad, but the matcher gave up before reaching the `\`
])
def test_go_match(pattern: str, name: str, matches: bool) -> None:
    assert go_match(pattern, name) is matches


@pytest.mark.parametrize("pattern", ["[a-]", "[]a]", "a\\", "[", "[a", "[^]", "[-a]"])
def test_go_match_refuses_what_go_refuses(pattern: str) -> None:
    with pytest.raises(BadPattern):
        go_match(pattern, "abc")


def test_go_trim_space_is_gos_not_pythons() -> None:
    assert go_trim_space("\x1c a \u3000") == "\x1c a"  # Python's strip() would take \x1c too


def test_rules_match_base_names_paths_and_anchored_paths() -> None:
    assert kept("a\n") == set(FILES) - {"a", "x/a", "templates/.hidden"}
    assert kept("x/a\n") == set(FILES) - {"x/a", "templates/.hidden"}
    assert kept("/a\n") == set(FILES) - {"a", "templates/.hidden"}
    assert kept("x/\n") == set(FILES) - {"x/a", "x/foo", "templates/.hidden"}  # a folder, and what is in it
    assert kept("foo/\n") == set(FILES) - {"templates/.hidden"}  # `foo` is a file here, not a folder


def test_a_lone_bang_ignores_everything_the_rules_before_it_did_not() -> None:
    assert kept("!\n") == set()


def test_a_negation_ignores_every_path_it_does_not_match() -> None:
    assert kept("!*a*\n") == {"Chart.yaml", "a", "ab", "templates/cm.yaml"}  # not `x/a`: `x` fails it


def test_double_slashes_at_either_end() -> None:
    files = ("Chart.yaml", "a", "foo")
    assert kept("//foo\n", files) == {"Chart.yaml", "a"}  # helm 3: from the second question on, `/foo`
    assert kept("//foo\n", files, helm_major=4) == set(files)  # helm 4: `/foo`, which never matches
    assert kept("foo//\n", files) == set(files)  # `foo/` against the path: never


@pytest.mark.parametrize("text", ["[a-]\n", "x/[]a]\n", "a\\\n", "foo/**\n", "#ok\n  [\n"])
def test_patterns_helm_refuses_are_refused_with_the_line(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_helmignore(text)
    assert f".helmignore:{text.count(chr(10))}:" in caught.value.message


def test_a_bom_only_counts_on_the_first_line_and_crlf_is_one_line_end() -> None:
    assert kept(b"\xef\xbb\xbfa\r\nb\r\n") == set(FILES) - {"a", "x/a", "b", "templates/.hidden"}
    with pytest.raises(InputError):  # `\xef\xbb\xbf[` on line 2 is a pattern, and a bad one
        parse_helmignore(b"a\n\xef\xbb\xbf[\n")


def test_helms_default_rule_leaves_out_dot_files_in_templates() -> None:
    assert "templates/.hidden" not in kept("")
    assert "templates/cm.yaml" in kept("")


def test_chart_files_drops_byte_order_marks_and_raises_refusals_it_keeps() -> None:
    files = {"Chart.yaml": b"\xef\xbb\xbfname: x\n", ".helmignore": b"*.pipe\n"}
    assert chart_files(files)["Chart.yaml"] == b"name: x\n"
    refusal = InputError("debug.fifo: cannot package irregular file")
    assert "debug.pipe" not in chart_files(files, refused={"debug.pipe": InputError("x")})
    with pytest.raises(InputError, match="irregular"):
        chart_files(files, refused={"debug.fifo": refusal})
    assert chart_files({**files, ".helmignore": b"vendor/\n"}, refused={"vendor/": refusal}).keys() == \
        {"Chart.yaml", ".helmignore"}  # a refused folder link that .helmignore leaves out
