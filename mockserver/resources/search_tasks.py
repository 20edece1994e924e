"""The Search API's tasks: every write through it answers a ``taskID``; getIndexTask and getAppTask
say whether it is ``published`` yet.

A task is published at once under the default run policy, and under a deferred one when a run
made at the same moment would finish (``finish_after`` seconds later on the mock's clock), so a
test steers both APIs' waiting with the one policy. The write itself is visible at once either way
(ledger: search-task-timing). IDs are the application's own, issued in order from 1; state lives
in ``Account.search_tasks``.
"""

from __future__ import annotations

from typing import Any

from mockserver.engine.errors import NotFound
from mockserver.resources.context import Context, Handler


def new_task(ctx: Context, index_name: str, *, stamp: bool = True) -> dict[str, Any]:
    """Record one Search task for a write on ``index_name``; the fields a write's answer carries
    (``taskID``). With ``stamp``, the index's ``updatedAt`` (and ``createdAt``, the first time) is
    stamped when the index exists after the write (a deleted one has no dates left)."""
    account = ctx.account
    tasks = account.search_tasks
    now = ctx.clock.now().timestamp()
    for task_id in [t for t, at in tasks.pending.items() if at <= now]:  # published by now: forgotten
        del tasks.pending[task_id]
    tasks.last += 1
    policy = ctx.run_policy
    if policy.mode == "deferred":
        publish_at = now + max(policy.finish_after, policy.start_after)
        if publish_at > now:
            tasks.pending[tasks.last] = publish_at
    if stamp and index_name in account.indexes:
        account.stamp_index(index_name, ctx.now())
    return {"taskID": tasks.last}


def task_status(ctx: Context, task_id: int) -> str:
    """``published`` or ``notPublished``; 404 for an ID this application never issued."""
    tasks = ctx.account.search_tasks
    if not 1 <= task_id <= tasks.last:
        issued = f"IDs 1 to {tasks.last}" if tasks.last else "none yet"
        raise NotFound(
            f"Task {task_id} does not exist",
            detail=f"path.taskID: application {ctx.account.app_id!r} issued no task {task_id} ({issued})",
            apart=True,
        )
    publish_at = tasks.pending.get(task_id)
    if publish_at is not None and publish_at > ctx.clock.now().timestamp():
        return "notPublished"
    return "published"


def get_index_task(ctx: Context) -> Any:
    """GET /1/indexes/{indexName}/task/{taskID}: found by its ID whatever index the path names
    (the official helpers wait on a move's task under the index it moved away)."""
    return {"status": task_status(ctx, int(ctx.request.path["taskID"]))}


def get_app_task(ctx: Context) -> Any:
    """GET /1/task/{taskID}: an ID never issued is a 404 too (the published spec documents no 404
    here; ledger search-task-timing)."""
    return {"status": task_status(ctx, int(ctx.request.path["taskID"]))}


HANDLERS: dict[str, Handler] = {"getIndexTask": get_index_task, "getAppTask": get_app_task}
