"""The mapping supervisor with a fake Invoker: states, pollers, checkpoints, restarts."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from headwater.errors import ResourceNotFound
from headwater.mapping import config as states
from headwater.mapping.config import MappingConfig
from headwater.mapping.invoker import Outcome
from headwater.mapping.supervisor import MappingSupervisor
from headwater.storage import rows
from headwater.streams.log import StreamInfo
from tests.unit.mapping.support import FakeInvoker, wait_until
from tests.unit.streams.support import ACCOUNT, REGION, StreamWorld

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:handler"


def new_mapping(info: StreamInfo, position: str = "TRIM_HORIZON", **changes: Any) -> MappingConfig:
    return MappingConfig(
        uuid=str(uuid.uuid4()),
        region=REGION,
        account=ACCOUNT,
        function_arn=FUNCTION,
        event_source_arn=info.arn,
        starting_position=position,
        **changes,
    )


def poller_threads(mapping_uuid: str) -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.name.startswith(f"poller-{mapping_uuid[:8]}-") and t.is_alive()
    ]


def wait_state(sup: MappingSupervisor, mapping_uuid: str, state: str) -> None:
    wait_until(lambda: sup.get(mapping_uuid).state == state)


def stored_checkpoints(world: StreamWorld, mapping_uuid: str) -> dict[str, int]:
    return world.store.read(lambda conn: rows.load_checkpoints(conn, mapping_uuid))


def gone(sup: MappingSupervisor, mapping_uuid: str) -> bool:
    try:
        sup.get(mapping_uuid)
    except ResourceNotFound:
        return True
    return False


@pytest.fixture
def info(world: StreamWorld) -> StreamInfo:
    return world.create_stream()


@pytest.fixture
def sup(world: StreamWorld, invoker: FakeInvoker) -> Iterator[MappingSupervisor]:
    made = MappingSupervisor(world.store, world.log, invoker, world.clock)
    yield made
    if invoker.hold is not None:
        invoker.hold.set()
    made.close()


def test_create_answers_creating_then_becomes_enabled(
    sup: MappingSupervisor, info: StreamInfo
) -> None:
    created = sup.create(new_mapping(info))
    assert created.state == states.CREATING
    wait_state(sup, created.uuid, states.ENABLED)


def test_create_disabled_rests_disabled_without_pollers(
    sup: MappingSupervisor, info: StreamInfo
) -> None:
    created = sup.create(new_mapping(info, enabled=False))
    assert created.state == states.DISABLED
    wait_until(sup.idle)
    assert sup.get(created.uuid).state == states.DISABLED
    assert poller_threads(created.uuid) == []


def test_an_enabled_mapping_delivers_records_in_order(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    sup.create(new_mapping(info, batch_size=2))
    for pk in ("a", "b", "c", "d", "e"):
        world.append(info, pk)
    assert invoker.wait_delivered(5) == ["a", "b", "c", "d", "e"]
    assert all(len(batch) <= 2 for batch in invoker.batches())


def test_trim_horizon_delivers_records_written_before_creation(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    world.append(info, "early")
    sup.create(new_mapping(info, "TRIM_HORIZON"))
    assert invoker.wait_delivered(1) == ["early"]


def test_the_checkpoint_is_stored_after_delivery(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    created = sup.create(new_mapping(info))
    last = [world.append(info, pk) for pk in ("a", "b")][-1]
    invoker.wait_delivered(2)
    shard_id = world.shard(info.arn).shard_id
    wait_until(lambda: stored_checkpoints(world, created.uuid) == {shard_id: last})


def test_processing_result_follows_the_last_outcome(world: StreamWorld, info: StreamInfo) -> None:
    invoker = FakeInvoker([Outcome("function_error")])
    sup = MappingSupervisor(world.store, world.log, invoker, world.clock)
    try:
        created = sup.create(new_mapping(info))
        assert created.last_processing_result == states.NO_RECORDS
        world.append(info, "a")
        invoker.wait_calls(2)
        wait_until(lambda: sup.get(created.uuid).last_processing_result == states.OK)
        assert sup.invocations >= 2
    finally:
        sup.close()


def test_disable_answers_disabling_then_rests_disabled_with_pollers_stopped(
    sup: MappingSupervisor, info: StreamInfo
) -> None:
    created = sup.create(new_mapping(info))
    wait_state(sup, created.uuid, states.ENABLED)
    wait_until(lambda: poller_threads(created.uuid))
    updated = sup.update(created.uuid, {"enabled": False})
    assert updated.state == states.DISABLING
    wait_state(sup, created.uuid, states.DISABLED)
    assert poller_threads(created.uuid) == []


def test_re_enabling_resumes_from_the_saved_checkpoint(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    created = sup.create(new_mapping(info))
    world.append(info, "a")
    world.append(info, "b")
    invoker.wait_delivered(2)
    sup.update(created.uuid, {"enabled": False})
    wait_state(sup, created.uuid, states.DISABLED)
    world.append(info, "c")
    world.append(info, "d")
    assert sup.update(created.uuid, {"enabled": True}).state == states.ENABLING
    wait_state(sup, created.uuid, states.ENABLED)
    assert invoker.wait_delivered(4)[:4] == ["a", "b", "c", "d"]


def test_an_update_restarts_pollers_with_the_new_batch_size(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    created = sup.create(new_mapping(info, enabled=False, batch_size=100))
    for pk in ("a", "b", "c", "d", "e"):
        world.append(info, pk)
    sup.update(created.uuid, {"enabled": True, "batch_size": 2})
    assert invoker.wait_delivered(5) == ["a", "b", "c", "d", "e"]
    assert [len(batch) for batch in invoker.batches()] == [2, 2, 1]


def test_an_update_of_an_enabled_mapping_answers_updating(
    sup: MappingSupervisor, info: StreamInfo
) -> None:
    created = sup.create(new_mapping(info))
    wait_state(sup, created.uuid, states.ENABLED)
    assert sup.update(created.uuid, {"batch_size": 10}).state == states.UPDATING
    wait_state(sup, created.uuid, states.ENABLED)
    assert sup.get(created.uuid).batch_size == 10


def test_delete_removes_the_mapping_and_its_checkpoints(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    created = sup.create(new_mapping(info))
    world.append(info, "a")
    invoker.wait_delivered(1)
    wait_until(lambda: stored_checkpoints(world, created.uuid))
    assert sup.delete(created.uuid).state == states.DELETING
    wait_until(lambda: gone(sup, created.uuid))
    assert stored_checkpoints(world, created.uuid) == {}
    assert created.uuid not in [m[0] for m in world.store.read(rows.load_mappings)]
    assert poller_threads(created.uuid) == []


def test_unknown_mappings_are_not_found(sup: MappingSupervisor) -> None:
    with pytest.raises(ResourceNotFound):
        sup.get("nope")
    with pytest.raises(ResourceNotFound):
        sup.update("nope", {"enabled": False})
    with pytest.raises(ResourceNotFound):
        sup.delete("nope")


def test_latest_skips_records_written_before_creation(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    world.append(info, "before")
    created = sup.create(new_mapping(info, "LATEST"))
    wait_state(sup, created.uuid, states.ENABLED)
    world.append(info, "after")
    assert invoker.wait_delivered(1) == ["after"]


def test_latest_is_fixed_at_creation_not_when_pollers_start(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    world.append(info, "before")
    created = sup.create(new_mapping(info, "LATEST", enabled=False))
    world.append(info, "while-disabled")
    sup.update(created.uuid, {"enabled": True})
    assert invoker.wait_delivered(1)[0] == "while-disabled"


def test_a_restart_resumes_from_the_checkpoint_and_delivers_what_was_written_meanwhile(
    world: StreamWorld, info: StreamInfo
) -> None:
    first_invoker = FakeInvoker()
    first = MappingSupervisor(world.store, world.log, first_invoker, world.clock)
    created = first.create(new_mapping(info))
    world.append(info, "a")
    first_invoker.wait_delivered(1)
    wait_until(lambda: stored_checkpoints(world, created.uuid))
    first.close()
    world.append(info, "written-while-down")
    world.reopen()
    second_invoker = FakeInvoker()
    second = MappingSupervisor(world.store, world.log, second_invoker, world.clock)
    try:
        second.load()
        wait_state(second, created.uuid, states.ENABLED)
        assert second_invoker.wait_delivered(1) == ["written-while-down"]
    finally:
        second.close()


def test_a_mapping_saved_in_a_transitional_state_loads_at_rest(
    world: StreamWorld, info: StreamInfo
) -> None:
    mapping = new_mapping(info, enabled=False)
    mapping.state = states.DISABLING
    world.store.write(
        lambda txn: rows.upsert_mapping(txn.conn, mapping.uuid, REGION, mapping.to_json())
    )
    sup = MappingSupervisor(world.store, world.log, FakeInvoker(), world.clock)
    try:
        sup.load()
        assert sup.get(mapping.uuid).state == states.DISABLED
    finally:
        sup.close()


def test_idle_is_false_until_the_change_is_applied(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    created = sup.create(new_mapping(info))
    wait_state(sup, created.uuid, states.ENABLED)
    invoker.hold = threading.Event()
    world.append(info, "a")
    invoker.wait_calls(1)
    sup.update(created.uuid, {"batch_size": 5})  # waits for the in-flight batch to finish
    assert not sup.idle()
    invoker.hold.set()
    wait_until(sup.idle)
    assert sup.get(created.uuid).state == states.ENABLED


def test_a_pending_delete_counts_as_in_transition(
    sup: MappingSupervisor, world: StreamWorld, info: StreamInfo, invoker: FakeInvoker
) -> None:
    created = sup.create(new_mapping(info))
    wait_state(sup, created.uuid, states.ENABLED)
    invoker.hold = threading.Event()
    world.append(info, "a")
    invoker.wait_calls(1)
    try:
        sup.delete(created.uuid)  # applied only once the in-flight batch ends
        assert sup.in_transition(created.uuid)
    finally:
        invoker.hold.set()
        wait_until(lambda: gone(sup, created.uuid))
