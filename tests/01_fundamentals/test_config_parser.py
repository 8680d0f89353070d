"""01.5 A config parser with a custom exception hierarchy."""

from pathlib import Path

import pytest

from journey.targets import load

config_parser = load(__file__, "config_parser")

SCHEMA = {"host": str, "port": int, "debug": bool, "ratio": float}

GOOD = """\
# service settings
host = example.org

; another comment style
port=8080
    # an indented comment is a comment too
  debug = Yes
ratio = 0.25
"""


def test_parses_values_to_their_types() -> None:
    got = config_parser.parse_config(GOOD, SCHEMA)
    assert got == {"host": "example.org", "port": 8080, "debug": True, "ratio": 0.25}
    assert list(got) == ["host", "port", "debug", "ratio"], "keys in schema order"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("ON", True), ("1", True), ("no", False), ("False", False), ("off", False)],
)
def test_bool_words(raw: str, expected: bool) -> None:
    got = config_parser.parse_config(f"debug = {raw}", {"debug": bool})
    assert got == {"debug": expected}, f"{raw!r} means {expected}"


def test_quotes_are_removed_and_equals_signs_in_values_are_kept() -> None:
    text = "greeting = \"hello, world\"\ntoken = 'a=b=c'\nplain = x = y"
    got = config_parser.parse_config(text, {"greeting": str, "token": str, "plain": str})
    assert got == {"greeting": "hello, world", "token": "a=b=c", "plain": "x = y"}, (
        "split at the first '=' only; matching outer quotes are removed"
    )


def test_only_one_pair_of_matching_quotes_is_removed() -> None:
    text = "odd = 'hello\"\nnested = \"'x'\"\nempty = ''"
    got = config_parser.parse_config(text, {"odd": str, "nested": str, "empty": str})
    assert got == {"odd": "'hello\"", "nested": "'x'", "empty": ""}, (
        "quotes are removed only when the value starts and ends with the same quote, "
        "and only that outer pair"
    )


def test_defaults_fill_missing_keys() -> None:
    got = config_parser.parse_config(
        "port = 1", SCHEMA, {"host": "localhost", "debug": False, "ratio": 1.0}
    )
    assert got == {"host": "localhost", "port": 1, "debug": False, "ratio": 1.0}


def test_defaults_are_used_as_given() -> None:
    got = config_parser.parse_config("", {"port": int, "ratio": float}, {"port": None, "ratio": 1})
    assert got == {"port": None, "ratio": 1}, "a default is not converted: None stays None"


def test_a_line_overrides_a_default() -> None:
    got = config_parser.parse_config("port = 2", {"port": int}, {"port": 1})
    assert got == {"port": 2}


def test_default_for_a_key_outside_the_schema_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="prot"):
        config_parser.parse_config("port = 1", {"port": int}, {"prot": 2})


def test_invalid_value_names_key_line_and_type_and_keeps_the_cause() -> None:
    text = "host = a\nport = eighty\n"
    with pytest.raises(config_parser.InvalidValueError) as caught:
        config_parser.parse_config(text, {"host": str, "port": int}, source="app.conf")
    error = caught.value
    message = str(error)
    assert "app.conf, line 2" in message, "the message starts with '<source>, line <n>: '"
    for word in ("port", "eighty", "int"):
        assert word in message, f"the message names the key, the bad value and the type: {word}"
    assert (error.key, error.line) == ("port", 2)
    assert isinstance(error.__cause__, ValueError), (
        "raise InvalidValueError(...) from error keeps int()'s ValueError as __cause__"
    )


def test_invalid_bool_is_an_invalid_value_with_a_cause() -> None:
    with pytest.raises(config_parser.InvalidValueError) as caught:
        config_parser.parse_config("debug = maybe", {"debug": bool})
    assert "bool" in str(caught.value)
    assert caught.value.__cause__ is not None, "the bool parser's error is the cause"


def test_missing_key() -> None:
    with pytest.raises(config_parser.MissingKeyError) as caught:
        config_parser.parse_config("host = a", {"host": str, "port": int}, source="app.conf")
    error = caught.value
    assert (error.key, error.line) == ("port", None), "a missing key has no line"
    assert "port" in str(error), "the message names the missing key"
    assert "app.conf" in str(error), "the message names the source"


def test_the_first_missing_key_in_schema_order_is_reported() -> None:
    schema = {"port": int, "host": str, "debug": bool}  # not in alphabetical order
    with pytest.raises(config_parser.MissingKeyError) as caught:
        config_parser.parse_config("", schema)
    assert caught.value.key == "port", (
        "port, host and debug are all missing: report the first in schema order (port), "
        "not the alphabetically first (debug)"
    )


def test_unknown_key_suggests_the_close_one() -> None:
    with pytest.raises(config_parser.UnknownKeyError) as caught:
        config_parser.parse_config("host = a\nprot = 80", SCHEMA)
    error = caught.value
    assert (error.key, error.line) == ("prot", 2)
    assert "did you mean 'port'?" in str(error), "a typo gets a suggestion"


def test_duplicate_key() -> None:
    with pytest.raises(config_parser.DuplicateKeyError) as caught:
        config_parser.parse_config("port = 1\n\nport = 2", {"port": int})
    error = caught.value
    assert (error.key, error.line) == ("port", 3), "the second occurrence is reported"
    assert "line 1" in str(error), "and the message points at the first one"


@pytest.mark.parametrize(
    ("text", "line"),
    [("port 8080", 1), ("host = a\n= value", 2), ("host = a\n\n1port = 2", 3)],
)
def test_syntax_errors(text: str, line: int) -> None:
    with pytest.raises(config_parser.ConfigSyntaxError) as caught:
        config_parser.parse_config(text, {"host": str, "port": int})
    assert caught.value.line == line
    assert f"line {line}" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "error_class"),
    [
        ("port = x", "InvalidValueError"),
        ("", "MissingKeyError"),
        ("porr = 1", "UnknownKeyError"),
        ("what", "ConfigSyntaxError"),
    ],
)
def test_every_error_is_a_config_error(text: str, error_class: str) -> None:
    with pytest.raises(config_parser.ConfigError) as caught:
        config_parser.parse_config(text, {"port": int})
    assert type(caught.value).__name__ == error_class, "each problem has its own subclass"


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "app.conf"
    path.write_text("port = 9000\n", encoding="utf-8")
    assert config_parser.load_config(path, {"port": int}) == {"port": 9000}


def test_load_config_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.conf"
    path.write_text("# app\nport = nine\n", encoding="utf-8")
    with pytest.raises(config_parser.InvalidValueError, match=r"line 2") as caught:
        config_parser.load_config(path, {"port": int})
    assert str(caught.value).startswith(f"{path}, line 2: "), (
        "load_config passes the path as `source`: the message starts with '<path>, line <n>: '"
    )


def test_missing_file_is_a_config_error_caused_by_the_os_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.conf"
    with pytest.raises(config_parser.ConfigError, match=r"nowhere\.conf") as caught:
        config_parser.load_config(path, {"port": int})
    assert isinstance(caught.value.__cause__, FileNotFoundError), (
        "raise ConfigError(...) from error keeps the FileNotFoundError as the cause"
    )


def test_a_directory_is_a_config_error_too(tmp_path: Path) -> None:
    with pytest.raises(config_parser.ConfigError, match=tmp_path.name) as caught:
        config_parser.load_config(tmp_path, {"port": int})
    assert isinstance(caught.value.__cause__, OSError), (
        "catch OSError, the base of every 'cannot read this file' error, not just FileNotFoundError"
    )
