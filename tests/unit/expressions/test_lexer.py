from headwater.expressions.lexer import Kind, tokenize


def kinds(text: str) -> list[Kind]:
    return [token.kind for token in tokenize(text)]


def test_tokens_end_with_eof() -> None:
    assert tokenize("")[-1].kind is Kind.EOF


def test_names_placeholders_and_indexes_are_told_apart() -> None:
    assert kinds("a #b :c 12") == [Kind.NAME, Kind.ATTR_NAME, Kind.ATTR_VALUE, Kind.INDEX, Kind.EOF]


def test_two_character_comparators_are_one_token() -> None:
    assert [t.text for t in tokenize("a<>b<=c>=d")][1:6:2] == ["<>", "<=", ">="]


def test_bare_hash_is_invalid() -> None:
    assert tokenize("#")[0].kind is Kind.INVALID


def test_unknown_characters_become_single_invalid_tokens() -> None:
    assert [t.text for t in tokenize("ü$")][:2] == ["ü", "$"]


def test_tokens_record_their_position() -> None:
    token = tokenize("  abc")[0]
    assert (token.start, token.end) == (2, 5)


def test_whitespace_includes_tabs_and_newlines() -> None:
    assert kinds("a\t\r\nb") == [Kind.NAME, Kind.NAME, Kind.EOF]


def test_eof_is_shown_as_aws_writes_it() -> None:
    assert tokenize("")[0].shown == "<EOF>"
