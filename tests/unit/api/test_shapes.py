"""Shape validation against the botocore models: AWS's texts from errors.md §1.3 / §1.4."""

from __future__ import annotations

import time
from typing import Any

import botocore.loaders
import pytest

from headwater.api import shapes
from headwater.api.shape_types import blob_error, java_double, render
from headwater.api.shapes import ShapeValidator, compile_java, operation_names
from headwater.errors import SerializationError, ValidationError

DDB = ShapeValidator("dynamodb")
STREAMS = ShapeValidator("dynamodbstreams")
LAMBDA = ShapeValidator("lambda")
NS = "com.amazonaws.dynamodb.v20120810"
TABLE_PATTERN = "[a-zA-Z0-9_.-]+"


def item(value: str, path: str, constraint: str) -> str:
    return f"Value {value} at '{path}' failed to satisfy constraint: {constraint}"


def validation_message(validator: ShapeValidator, op: str, params: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as exc:
        validator.validate(op, params)
    return exc.value.message


def validation_items(validator: ShapeValidator, op: str, params: dict[str, Any]) -> list[str]:
    """The reported items, after checking the 'N validation error(s) detected: ' header."""
    message = validation_message(validator, op, params)
    head, _, body = message.partition(" detected: ")
    items = body.split("; ")
    noun = "validation error" if len(items) == 1 else "validation errors"
    assert head == f"{len(items)} {noun}"
    return items


def serialization_message(validator: ShapeValidator, op: str, params: dict[str, Any]) -> str:
    with pytest.raises(SerializationError) as exc:
        validator.validate(op, params)
    return exc.value.message


# --- errors.md worked examples ---------------------------------------------------------------


def test_put_item_empty_table_name_reports_pattern_length_and_missing_item() -> None:
    items = validation_items(DDB, "PutItem", {"TableName": ""})
    assert set(items) == {
        item("''", "tableName", f"Member must satisfy regular expression pattern: {TABLE_PATTERN}"),
        item("''", "tableName", "Member must have length greater than or equal to 3"),
        item("null", "item", "Member must not be null"),
    }
    assert len(items) == 3


def test_put_item_bool_table_name_is_serialization_error() -> None:
    message = serialization_message(DDB, "PutItem", {"TableName": True, "Item": {}})
    assert message == "TRUE_VALUE cannot be converted to String"


def test_create_table_bad_key_type_reports_enum_in_aws_order() -> None:
    params = {
        "TableName": "abc",
        "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "a", "KeyType": "Woop"}],
    }
    assert validation_message(DDB, "CreateTable", params) == (
        "1 validation error detected: "
        + item(
            "'Woop'",
            "keySchema.1.member.keyType",
            "Member must satisfy enum value set: [HASH, RANGE]",
        )
    )


def test_create_table_ss_attribute_type_reports_b_n_s() -> None:
    params = {
        "TableName": "abc",
        "AttributeDefinitions": [{"AttributeName": "b", "AttributeType": "SS"}],
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
    }
    assert validation_message(DDB, "CreateTable", params) == (
        "1 validation error detected: Value 'SS' at 'attributeDefinitions.1.member.attributeType' "
        "failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"
    )


def test_query_limit_below_minimum() -> None:
    assert validation_message(DDB, "Query", {"TableName": "abc", "Limit": 0}) == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_eleven_violations_are_reported_as_ten() -> None:
    params = {
        "TableName": "a;",  # pattern + min length
        "IndexName": "b;",  # pattern + min length
        "Select": "hi",
        "Limit": 0,
        "ConditionalOperator": "AND;",
        "ReturnConsumedCapacity": "hi",
        "AttributesToGet": [],
        "KeyConditions": {"a": {}},
        "QueryFilter": {"a": {}},
    }
    possible = {
        item(
            "'a;'", "tableName", f"Member must satisfy regular expression pattern: {TABLE_PATTERN}"
        ),
        item("'a;'", "tableName", "Member must have length greater than or equal to 3"),
        item(
            "'b;'", "indexName", f"Member must satisfy regular expression pattern: {TABLE_PATTERN}"
        ),
        item("'b;'", "indexName", "Member must have length greater than or equal to 3"),
        item(
            "'hi'",
            "select",
            "Member must satisfy enum value set: "
            "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
        ),
        item("'0'", "limit", "Member must have value greater than or equal to 1"),
        item("'AND;'", "conditionalOperator", "Member must satisfy enum value set: [OR, AND]"),
        item(
            "'hi'",
            "returnConsumedCapacity",
            "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
        ),
        item("'[]'", "attributesToGet", "Member must have length greater than or equal to 1"),
        item("null", "keyConditions.a.member.comparisonOperator", "Member must not be null"),
        item("null", "queryFilter.a.member.comparisonOperator", "Member must not be null"),
    }
    items = validation_items(DDB, "Query", params)
    assert len(items) == 10
    assert set(items) <= possible


def test_lambda_batch_size_zero() -> None:
    params = {"FunctionName": "f", "BatchSize": 0}
    assert validation_message(LAMBDA, "CreateEventSourceMapping", params) == (
        "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_lambda_starting_position_enum() -> None:
    params = {"FunctionName": "f", "StartingPosition": "invalid"}
    assert validation_message(LAMBDA, "CreateEventSourceMapping", params) == (
        "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy "
        "constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
    )


# --- constraints and paths -------------------------------------------------------------------


def test_one_error_uses_singular_header() -> None:
    message = validation_message(DDB, "GetItem", {"Key": {}})
    assert message == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_negative_capacity_units_use_nested_path() -> None:
    params = {
        "TableName": "abc",
        "AttributeDefinitions": [],
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": -1, "WriteCapacityUnits": 1},
    }
    assert validation_items(DDB, "CreateTable", params) == [
        item(
            "'-1'",
            "provisionedThroughput.readCapacityUnits",
            "Member must have value greater than or equal to 1",
        )
    ]


def test_empty_provisioned_throughput_reports_both_members_null() -> None:
    params = {"TableName": "abc", "AttributeDefinitions": [], "KeySchema": [{}]}
    params["ProvisionedThroughput"] = {}
    assert set(validation_items(DDB, "CreateTable", params)) == {
        item("null", "provisionedThroughput.readCapacityUnits", "Member must not be null"),
        item("null", "provisionedThroughput.writeCapacityUnits", "Member must not be null"),
        item("null", "keySchema.1.member.attributeName", "Member must not be null"),
        item("null", "keySchema.1.member.keyType", "Member must not be null"),
    }


def test_create_table_requires_key_schema_and_attribute_definitions() -> None:
    assert set(validation_items(DDB, "CreateTable", {"TableName": "abc"})) == {
        item("null", "attributeDefinitions", "Member must not be null"),
        item("null", "keySchema", "Member must not be null"),
    }


def test_key_schema_longer_than_two_is_rejected() -> None:
    key = {"AttributeName": "a", "KeyType": "HASH"}
    params = {"TableName": "abc", "AttributeDefinitions": [], "KeySchema": [key, key, key]}
    assert validation_items(DDB, "CreateTable", params) == [
        item(
            "'[{AttributeName=a, KeyType=HASH}, {AttributeName=a, KeyType=HASH}, "
            "{AttributeName=a, KeyType=HASH}]'",
            "keySchema",
            "Member must have length less than or equal to 2",
        )
    ]


def test_batch_write_short_table_name_and_empty_list_report_map_keys_and_values() -> None:
    assert set(validation_items(DDB, "BatchWriteItem", {"RequestItems": {"a": []}})) == {
        item(
            "'{a=[]}'",
            "requestItems",
            "Map keys must satisfy constraint: [Member must have length less than or equal to "
            "255, Member must have length greater than or equal to 3, Member must satisfy "
            f"regular expression pattern: {TABLE_PATTERN}]",
        ),
        item(
            "'{a=[]}'",
            "requestItems",
            "Map value must satisfy constraint: [Member must have length less than or equal to "
            "25, Member must have length greater than or equal to 1]",
        ),
    }


def test_batch_write_empty_requests_report_paths_through_map_and_list() -> None:
    params = {"RequestItems": {"abc": [{"PutRequest": {}, "DeleteRequest": {}}]}}
    assert set(validation_items(DDB, "BatchWriteItem", params)) == {
        item("null", "requestItems.abc.member.1.member.putRequest.item", "Member must not be null"),
        item(
            "null", "requestItems.abc.member.1.member.deleteRequest.key", "Member must not be null"
        ),
    }


def test_batch_get_empty_request_items() -> None:
    assert validation_items(DDB, "BatchGetItem", {"RequestItems": {}}) == [
        item("'{}'", "requestItems", "Member must have length greater than or equal to 1")
    ]


def test_batch_get_empty_keys_path_goes_through_map_value() -> None:
    params = {"RequestItems": {"abc": {"Keys": []}}}
    assert validation_items(DDB, "BatchGetItem", params) == [
        item(
            "'[]'",
            "requestItems.abc.member.keys",
            "Member must have length greater than or equal to 1",
        )
    ]


def test_key_conditions_bad_operator_lists_aws_enum_order() -> None:
    params = {"TableName": "abc", "KeyConditions": {"a": {"ComparisonOperator": "XX"}}}
    assert validation_items(DDB, "Query", params) == [
        item(
            "'XX'",
            "keyConditions.a.member.comparisonOperator",
            "Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, "
            "NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]",
        )
    ]


def test_put_item_enums_print_aws_orders() -> None:
    params = {
        "TableName": "abc",
        "Item": {},
        "ReturnValues": "x",
        "ReturnItemCollectionMetrics": "x",
    }
    assert set(validation_items(DDB, "PutItem", params)) == {
        item(
            "'x'",
            "returnValues",
            "Member must satisfy enum value set: "
            "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
        ),
        item(
            "'x'", "returnItemCollectionMetrics", "Member must satisfy enum value set: [SIZE, NONE]"
        ),
    }


def test_scalar_list_element_violation_is_reported_once_at_the_list() -> None:
    index = {
        "IndexName": "idx",
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["", ""]},
    }
    params = {
        "TableName": "abc",
        "AttributeDefinitions": [],
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [index],
    }
    assert validation_items(DDB, "CreateTable", params) == [
        item(
            "'[, ]'",
            "globalSecondaryIndexes.1.member.projection.nonKeyAttributes",
            "Member must satisfy constraint: [Member must have length less than or equal to 255, "
            "Member must have length greater than or equal to 1]",
        )
    ]


def test_string_length_counts_utf16_units() -> None:
    key = {"AttributeName": "\U0001f600" * 128, "KeyType": "HASH"}  # 256 UTF-16 units
    params = {"TableName": "abc", "AttributeDefinitions": [], "KeySchema": [key]}
    [message] = validation_items(DDB, "CreateTable", params)
    assert message.endswith(
        "at 'keySchema.1.member.attributeName' failed to satisfy constraint: "
        "Member must have length less than or equal to 255"
    )


def test_table_name_given_as_arn_is_accepted() -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/my-table"
    DDB.validate("PutItem", {"TableName": arn, "Item": {}})


def test_unknown_members_are_ignored() -> None:
    DDB.validate("PutItem", {"TableName": "abc", "Item": {}, "Bogus": [1, {"x": True}]})


def test_json_null_counts_as_missing() -> None:
    items = validation_items(DDB, "PutItem", {"TableName": "abc", "Item": None, "Limit": None})
    assert items == [item("null", "item", "Member must not be null")]


def test_attribute_value_contents_are_not_inspected() -> None:
    DDB.validate("PutItem", {"TableName": "abc", "Item": {"a": {"S": 1, "NULL": "x", "Z": []}}})


def test_required_false_skips_not_null_checks() -> None:
    DDB.validate("BatchWriteItem", {"RequestItems": {"abc": [{"PutRequest": {}}]}}, required=False)
    LAMBDA.validate("CreateEventSourceMapping", {}, required=False)


def test_lambda_missing_function_name_is_required() -> None:
    assert validation_message(LAMBDA, "CreateEventSourceMapping", {}) == (
        "1 validation error detected: Value null at 'functionName' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_lambda_querystring_number_given_as_text_is_range_checked() -> None:
    assert validation_items(LAMBDA, "ListEventSourceMappings", {"MaxItems": "0"}) == [
        item("'0'", "maxItems", "Member must have value greater than or equal to 1")
    ]


def test_lambda_list_element_constraints_include_not_null() -> None:
    params = {"FunctionName": "f", "FunctionResponseTypes": ["Nope"]}
    assert validation_items(LAMBDA, "CreateEventSourceMapping", params) == [
        item(
            "'[Nope]'",
            "functionResponseTypes",
            "Member must satisfy constraint: [Member must satisfy enum value set: "
            "[ReportBatchItemFailures], Member must not be null]",
        )
    ]


def test_streams_get_records_limit_zero() -> None:
    items = validation_items(STREAMS, "GetRecords", {"ShardIterator": "it", "Limit": 0})
    assert items == [item("'0'", "limit", "Member must have value greater than or equal to 1")]


# --- SerializationException (errors.md §1.4) -------------------------------------------------

SERIALIZATION_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("PutItem", {"TableName": False}, "FALSE_VALUE cannot be converted to String"),
    ("PutItem", {"TableName": 23}, "NUMBER_VALUE cannot be converted to String"),
    ("PutItem", {"TableName": 2.5}, "DECIMAL_VALUE cannot be converted to String"),
    ("PutItem", {"TableName": []}, "Unrecognized collection type class java.lang.String"),
    ("PutItem", {"TableName": {}}, "Start of structure or map found where not expected"),
    ("GetItem", {"ConsistentRead": "23"}, "Unexpected token received from parser"),
    ("GetItem", {"ConsistentRead": 1}, "NUMBER_VALUE cannot be converted to Boolean"),
    ("GetItem", {"ConsistentRead": 1.5}, "DECIMAL_VALUE cannot be converted to Boolean"),
    ("GetItem", {"ConsistentRead": []}, "Unrecognized collection type class java.lang.Boolean"),
    ("Query", {"Limit": "23"}, "STRING_VALUE cannot be converted to Integer"),
    ("Query", {"Limit": True}, "TRUE_VALUE cannot be converted to Integer"),
    ("Query", {"Limit": []}, "Unrecognized collection type class java.lang.Integer"),
    ("Query", {"Limit": {}}, "Start of structure or map found where not expected"),
    (
        "CreateTable",
        {"ProvisionedThroughput": {"ReadCapacityUnits": "1"}},
        "STRING_VALUE cannot be converted to Long",
    ),
    ("Query", {"AttributesToGet": "a"}, "Unexpected field type"),
    ("Query", {"AttributesToGet": {}}, "Start of structure or map found where not expected"),
    ("PutItem", {"Item": 1}, "Unexpected field type"),
    (
        "PutItem",
        {"Item": []},
        f"Unrecognized collection type java.util.Map<java.lang.String, {NS}.AttributeValue>",
    ),
    (
        "Query",
        {"ExpressionAttributeNames": []},
        "Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>",
    ),
    ("PutItem", {"Item": {"a": "x"}}, "Unexpected value type in payload"),
    ("PutItem", {"Item": {"a": []}}, f"Unrecognized collection type class {NS}.AttributeValue"),
    ("CreateTable", {"KeySchema": [1]}, "Unexpected value type in payload"),
    (
        "CreateTable",
        {"KeySchema": [[]]},
        f"Unrecognized collection type class {NS}.KeySchemaElement",
    ),
    ("CreateTable", {"ProvisionedThroughput": 1}, "Unexpected field type"),
    (
        "CreateTable",
        {"ProvisionedThroughput": []},
        f"Unrecognized collection type class {NS}.ProvisionedThroughput",
    ),
    (
        "BatchGetItem",
        {"RequestItems": {"abc": {"Keys": ["x"]}}},
        "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to "
        "class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and "
        "java.lang.Class are in module java.base of loader 'bootstrap')",
    ),
]


@pytest.mark.parametrize(("op", "params", "expected"), SERIALIZATION_CASES)
def test_wrong_json_type_gives_aws_serialization_text(
    op: str, params: dict[str, Any], expected: str
) -> None:
    assert serialization_message(DDB, op, params) == expected


def test_serialization_error_wins_over_constraint_errors() -> None:
    message = serialization_message(DDB, "Query", {"TableName": "", "Limit": "x"})
    assert message == "STRING_VALUE cannot be converted to Integer"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "only base-64-encoded strings are convertible to bytes"),
        (12, "only base-64-encoded strings are convertible to bytes"),
        ("23456", "Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
        ("=+/=", "Invalid last non-pad Base64 character dectected"),
        ("+/+=", "Invalid last non-pad Base64 character dectected"),
        ([], "Unrecognized collection type class java.nio.ByteBuffer"),
        ({}, "Start of structure or map found where not expected"),
        ("AAAA", None),
        ("YWI=", None),
    ],
)
def test_blob_rules(value: Any, expected: str | None) -> None:
    assert blob_error(value) == expected


# --- rendering, regexes, model coverage -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([], "[]"),
        ({}, "{}"),
        (["a", 1, None], "[a, 1, null]"),
        ({"k": {"S": "v"}}, "{k={S=v}}"),
        (True, "true"),
        (-1, "-1"),
        (1.5, "1.5"),
        (1e20, "1.0E20"),
        (1.25e-5, "1.25E-5"),
    ],
)
def test_values_render_java_style(value: Any, expected: str) -> None:
    assert render(value) == expected


def test_java_double_zero() -> None:
    assert java_double(0.0) == "0.0"


@pytest.mark.parametrize("service", shapes.SERVICES)
def test_every_model_pattern_translates_to_python(service: str) -> None:
    model = botocore.loaders.create_loader().load_service_model(service, "service-2")
    patterns = {s["pattern"] for s in model["shapes"].values() if "pattern" in s}
    assert [p for p in patterns if compile_java(p) is None] == []


def test_java_pattern_translation_keeps_meaning() -> None:
    xml_chars = compile_java(r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*")
    printable = compile_java(r"\p{Print}+")
    tag_key = compile_java(r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)")
    assert xml_chars is not None and xml_chars.fullmatch("a\U0001f600b")
    assert xml_chars.fullmatch("\x01") is None
    assert printable is not None and printable.fullmatch("a b~") and not printable.fullmatch("é")
    assert tag_key is not None and tag_key.fullmatch("Käse 1:@") and not tag_key.fullmatch("a#")


def test_printed_enum_orders_match_model_values() -> None:
    loader = botocore.loaders.create_loader()
    for (service, shape), printed in shapes._ENUM_ORDER.items():
        model = loader.load_service_model(service, "service-2")
        assert sorted(model["shapes"][shape]["enum"]) == sorted(printed), shape


@pytest.mark.parametrize("service", shapes.SERVICES)
def test_every_operation_compiles(service: str) -> None:
    ShapeValidator(service).prepare()


def test_operation_names_lists_each_service() -> None:
    assert {"PutItem", "Query", "CreateTable"} <= operation_names("dynamodb")
    assert "ListTable" not in operation_names("dynamodb")
    assert operation_names("dynamodbstreams") == {
        "DescribeStream",
        "GetRecords",
        "GetShardIterator",
        "ListStreams",
    }
    assert "CreateEventSourceMapping" in operation_names("lambda")


def test_unknown_operation_raises_value_error() -> None:
    with pytest.raises(ValueError):
        DDB.validate("ListTable", {})


def test_unknown_service_raises_value_error() -> None:
    with pytest.raises(ValueError):
        ShapeValidator("s3")


# --- speed -----------------------------------------------------------------------------------


def test_put_item_validation_micro_benchmark() -> None:
    params = {
        "TableName": "orders-prod",
        "Item": {
            "pk": {"S": "customer#123"},
            "sk": {"S": "order#2024-01-01#0001"},
            "total": {"N": "99.95"},
            "items": {"L": [{"M": {"sku": {"S": "A-1"}, "qty": {"N": "2"}}}]},
            "tags": {"SS": ["gift", "express"]},
        },
        "ConditionExpression": "attribute_not_exists(pk)",
        "ExpressionAttributeValues": {":z": {"N": "0"}},
        "ReturnValues": "NONE",
        "ReturnConsumedCapacity": "TOTAL",
    }
    DDB.validate("PutItem", params)
    rounds = 20_000
    start = time.perf_counter()
    for _ in range(rounds):
        DDB.validate("PutItem", params)
    per_call = (time.perf_counter() - start) / rounds * 1e6
    print(f"PutItem validate: {per_call:.2f} µs per call")
    assert DDB.validate("PutItem", params) is None  # type: ignore[func-returns-value]
