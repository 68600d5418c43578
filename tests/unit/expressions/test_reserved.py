from headwater.expressions.reserved import RESERVED_WORDS, is_reserved


def test_list_has_all_573_aws_words() -> None:
    assert len(RESERVED_WORDS) == 573


def test_reserved_words_match_case_insensitively() -> None:
    assert is_reserved("Status")


def test_ordinary_names_are_not_reserved() -> None:
    assert not is_reserved("username")
