from headwater.model.size import item_size, value_size


def test_string_key_size_matches_aws_stream_record() -> None:
    assert item_size({"Username": {"S": "Fred"}}) == 12


def test_number_key_size_matches_aws_stream_record() -> None:
    assert item_size({"Id": {"N": "101"}}) == 5


def test_new_image_size_matches_aws_stream_record() -> None:
    assert item_size({"Message": {"S": "New item!"}, "Id": {"N": "101"}}) == 21


def test_hello_world_key_matches_aws_stream_record() -> None:
    assert item_size({"my_partition_key": {"S": "hello world"}}) == 27


def test_names_and_strings_count_utf8_bytes() -> None:
    assert item_size({"é": {"S": "日本"}}) == 2 + 6


def test_binary_counts_raw_bytes() -> None:
    assert value_size({"B": "YWJj"}) == 3


def test_number_counts_one_byte_per_two_digits_plus_one() -> None:
    assert value_size({"N": "12345"}) == 4


def test_number_ignores_leading_and_trailing_zeros() -> None:
    assert value_size({"N": "100000"}) == 2


def test_bool_and_null_count_one_byte() -> None:
    assert value_size({"BOOL": False}) + value_size({"NULL": True}) == 2


def test_sets_sum_their_members() -> None:
    assert value_size({"SS": ["ab", "c"]}) == 3


def test_list_has_three_bytes_overhead_and_one_per_element() -> None:
    assert value_size({"L": [{"S": "ab"}, {"BOOL": True}]}) == 3 + (2 + 1) + (1 + 1)


def test_map_counts_member_names() -> None:
    assert value_size({"M": {"ab": {"S": "c"}}}) == 3 + 2 + 1 + 1


def test_empty_item_is_zero_bytes() -> None:
    assert item_size({}) == 0
