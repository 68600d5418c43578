"""Deploying a SAM template into a real (temporary) runtime: tables with indexes and streams,
functions, and their DynamoDB stream events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from headwater.runtime import Runtime
from headwater.sam.deploy import deploy
from headwater.sam.template import load_template
from headwater.settings import Settings

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: id, AttributeType: S}
        - {AttributeName: customer, AttributeType: S}
      KeySchema:
        - {AttributeName: id, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: by-customer
          KeySchema:
            - {AttributeName: customer, KeyType: HASH}
          Projection: {ProjectionType: ALL}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      Environment:
        Variables:
          TABLE: !Ref Orders
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
"""


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    rt = Runtime(Settings(in_memory=True, port=0))
    rt.start()
    yield rt
    rt.close()


def test_a_template_deploys_tables_indexes_functions_and_mappings(
    runtime: Runtime, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return None\n")
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    result = deploy(runtime, load_template(tmp_path / "template.yaml"), tmp_path, "us-east-1")
    info = runtime.catalog.get("us-east-1", "orders")
    assert info is not None and info.stream_view_type == "NEW_IMAGE"
    assert [index.name for index in info.indexes] == ["by-customer"]
    function = runtime.functions.get("us-east-1", "Worker")
    assert function.environment == {"TABLE": "orders"}
    (mapping,) = runtime.mappings.all("us-east-1")
    assert mapping.uuid == result.mappings[0]
    assert mapping.event_source_arn == info.latest_stream_arn
    assert mapping.batch_size == 10
    # Deploying again changes nothing that exists: same table, same mapping.
    again = deploy(runtime, load_template(tmp_path / "template.yaml"), tmp_path, "us-east-1")
    assert again.mappings == result.mappings


ALIASED = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: aliased-orders
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      AutoPublishAlias: live
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Orders.StreamArn
            StartingPosition: LATEST
"""


def test_auto_publish_alias_publishes_a_version_and_maps_the_alias(
    runtime: Runtime, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(ALIASED)
    deploy(runtime, load_template(tmp_path / "template.yaml"), tmp_path, "us-east-1")
    alias = runtime.functions.get_alias("us-east-1", "Worker", "live")
    assert alias.function_version == "1"
    (mapping,) = runtime.mappings.all("us-east-1")
    assert mapping.function_arn == runtime.functions.get("us-east-1", "Worker").arn + ":live"
    # Unchanged code: the same version again. Changed code: a new version behind the alias.
    deploy(runtime, load_template(tmp_path / "template.yaml"), tmp_path, "us-east-1")
    assert runtime.functions.get_alias("us-east-1", "Worker", "live").function_version == "1"
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 2\n")
    again = deploy(runtime, load_template(tmp_path / "template.yaml"), tmp_path, "us-east-1")
    assert runtime.functions.get_alias("us-east-1", "Worker", "live").function_version == "2"
    assert again.mappings == [mapping.uuid]
    assert runtime.functions.get("us-east-1", "Worker:1").code_sha256 != (
        runtime.functions.get("us-east-1", "Worker:2").code_sha256
    )
