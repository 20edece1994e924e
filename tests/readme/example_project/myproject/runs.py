"""Re-run the tasks whose last runs failed."""

from __future__ import annotations

from algoliasearch.ingestion.client import IngestionClientSync


def failed_task_ids(client: IngestionClientSync) -> list[str]:
    """The tasks with a finished run that failed, each once, in the order listRuns gives them."""
    answer = client.list_runs(status=["finished"], items_per_page=100)
    failed: list[str] = []
    for run in answer.runs:
        if run.to_dict().get("outcome") == "failure" and run.task_id not in failed:
            failed.append(run.task_id)
    return failed


def rerun_failed_tasks(client: IngestionClientSync) -> list[str]:
    """Start a new run of every task that failed; returns the IDs of the runs started."""
    return [client.run_task(task_id).run_id for task_id in failed_task_ids(client)]
