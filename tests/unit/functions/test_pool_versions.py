"""Workers are pooled per (function, version): versions run side by side and retire apart."""

from __future__ import annotations

import json
import os

from headwater.functions.pool import WorkerPool

from .conftest import MakeFunction

WHO = """
import os

def handler(event, context):
    return {"pid": os.getpid(), "version": context.function_version, "tag": TAG}

TAG = "{tag}"
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_each_version_has_its_own_workers_and_retires_alone(
    pool: WorkerPool, make_function: MakeFunction
) -> None:
    latest = make_function(WHO.replace("{tag}", "latest"), name="fn")
    one = make_function(WHO.replace("{tag}", "one"), name="fn", version="1")
    assert (latest.key, one.key) == ("fn:$LATEST", "fn:1")
    ran_latest = json.loads(pool.invoke(latest, b"{}").payload)
    ran_one = json.loads(pool.invoke(one, b"{}").payload)
    assert (ran_latest["tag"], ran_latest["version"]) == ("latest", "$LATEST")
    assert (ran_one["tag"], ran_one["version"]) == ("one", "1")
    assert ran_latest["pid"] != ran_one["pid"]
    # Invoking one version does not make the other's workers stale.
    assert json.loads(pool.invoke(latest, b"{}").payload)["pid"] == ran_latest["pid"]
    assert sorted(pool.idle_pids("fn")) == sorted([ran_latest["pid"], ran_one["pid"]])
    # A code update of $LATEST retires its key only.
    pool.retire(latest.key)
    assert _gone(ran_latest["pid"])
    assert pool.idle_pids("fn:1") == [ran_one["pid"]]
    assert json.loads(pool.invoke(one, b"{}").payload)["pid"] == ran_one["pid"]
    # Deleting the function retires every version's workers.
    pool.retire("fn")
    assert _gone(ran_one["pid"])
    assert pool.idle_pids("fn") == []
