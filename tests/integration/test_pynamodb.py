"""PynamoDB's model operations against Headwater, unchanged but for the host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from tests.conftest import unique


@pytest.fixture
def product_model(server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Model]]:
    # PynamoDB's bare Connection (used for transactions) reads credentials from the environment.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")

    class Product(Model):
        class Meta:
            table_name = unique("pynamo")
            host = server.url
            region = "us-east-1"
            aws_access_key_id = "x"
            aws_secret_access_key = "x"
            billing_mode = "PAY_PER_REQUEST"

        category = UnicodeAttribute(hash_key=True)
        sku = UnicodeAttribute(range_key=True)
        name = UnicodeAttribute()
        price = NumberAttribute()
        stock = NumberAttribute(default=0)
        tags = UnicodeSetAttribute(null=True)

    Product.create_table(wait=True)
    yield Product
    Product.delete_table()


def test_save_get_and_refresh(product_model: type[Model]) -> None:
    Product: Any = product_model
    Product("mice", "m-1", name="Wireless Mouse", price=25.99, tags={"usb"}).save()
    got = Product.get("mice", "m-1")
    assert got.name == "Wireless Mouse"
    assert got.price == 25.99
    assert got.tags == {"usb"}
    assert Product.count() == 1


def test_query_with_range_condition_and_filter(product_model: type[Model]) -> None:
    Product: Any = product_model
    for i in range(6):
        Product("mice", f"m-{i}", name=f"Mouse {i}", price=10 + i).save()
    Product("keyboards", "k-1", name="Keyboard", price=50).save()
    skus = [p.sku for p in Product.query("mice", Product.sku >= "m-2")]
    assert skus == ["m-2", "m-3", "m-4", "m-5"]
    cheap = [p.sku for p in Product.query("mice", filter_condition=Product.price < 12)]
    assert cheap == ["m-0", "m-1"]
    newest = [p.sku for p in Product.query("mice", scan_index_forward=False, limit=2)]
    assert newest == ["m-5", "m-4"]


def test_scan_with_filter(product_model: type[Model]) -> None:
    Product: Any = product_model
    Product("mice", "m-1", name="Mouse", price=10).save()
    Product("keyboards", "k-1", name="Keyboard", price=50).save()
    assert {p.sku for p in Product.scan(Product.price > 20)} == {"k-1"}


def test_update_with_actions(product_model: type[Model]) -> None:
    Product: Any = product_model
    item = Product("mice", "m-1", name="Mouse", price=10, stock=1, tags={"a"})
    item.save()
    item.update(
        actions=[
            Product.stock.add(4),
            Product.price.set(12),
            Product.tags.add({"b"}),
            Product.name.set("Better Mouse"),
        ]
    )
    got = Product.get("mice", "m-1")
    assert (got.stock, got.price, got.name, got.tags) == (5, 12, "Better Mouse", {"a", "b"})


def test_conditional_save_refuses_an_overwrite(product_model: type[Model]) -> None:
    Product: Any = product_model
    Product("mice", "m-1", name="Mouse", price=10).save(Product.sku.does_not_exist())
    with pytest.raises(PutError) as err:
        Product("mice", "m-1", name="Other", price=1).save(Product.sku.does_not_exist())
    assert err.value.cause_response_code == "ConditionalCheckFailedException"
    assert Product.get("mice", "m-1").name == "Mouse"


def test_transact_write_is_all_or_nothing(product_model: type[Model], server: Any) -> None:
    Product: Any = product_model
    Product("mice", "m-1", name="Mouse", price=10, stock=1).save()
    connection = Connection(host=server.url, region="us-east-1")
    with pytest.raises(TransactWriteError), TransactWrite(connection=connection) as tx:
        tx.save(Product("mice", "m-2", name="New", price=5))
        tx.update(
            Product("mice", "m-1"),
            actions=[Product.stock.add(-5)],
            condition=Product.stock >= 5,
        )
    assert Product.count("mice") == 1
    with TransactWrite(connection=connection) as tx:
        tx.save(Product("mice", "m-2", name="New", price=5))
        tx.update(Product("mice", "m-1"), actions=[Product.stock.add(-1)])
    assert Product.count("mice") == 2
    assert Product.get("mice", "m-1").stock == 0
