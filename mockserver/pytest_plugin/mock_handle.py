"""IngestionMock: a test's handle on a mock (the type of the ``ingestion_mock`` fixture)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.control.mock_control import MockControl
from mockserver.engine.journal import Call, Journal
from mockserver.engine.store import Account, Record
from mockserver.names import API_KEY_HEADER, APP_ID_HEADER
from mockserver.suggest import did_you_mean

if TYPE_CHECKING:
    from mockserver.http.app import MockApp
    from mockserver.http.live_server import LiveServer


@dataclass(frozen=True)
class ExpectedRejection:
    """A rejection the test says it provokes on purpose (see ``IngestionMock.expect_rejection``)."""

    operation_id: str | None
    status: int | None

    def matches(self, call: Call) -> bool:
        return (self.operation_id is None or call.operation_id == self.operation_id) and (
            self.status is None or call.status == self.status
        )


class IngestionMock:
    """A test's handle on the mock: its state, its journal and the credentials to call it with.

    ``app_id`` / ``api_key`` are the credentials the fixtures send; ``account`` is this test's
    application data; ``journal`` every call the mock received during the test.
    """

    def __init__(self, app: MockApp, app_id: str, api_key: str) -> None:
        self.app = app
        self.app_id = app_id
        self.api_key = api_key
        self.expected_rejections: list[ExpectedRejection] = []
        self._server: LiveServer | None = None

    @property
    def control(self) -> MockControl:
        return self.app.control

    @property
    def headers(self) -> dict[str, str]:
        """The credential headers to send (what ``ingestion_http`` sends)."""
        return {APP_ID_HEADER: self.app_id, API_KEY_HEADER: self.api_key}

    @property
    def journal(self) -> Journal:
        return self.app.engine.journal

    @property
    def account(self) -> Account:
        """This test's application data (authentications, sources, tasks, runs, indexes...)."""
        return self.app.engine.store.account(self.app_id)

    @property
    def url(self) -> str:
        """Where the live mock listens (only with the ``ingestion_server`` fixture or its users)."""
        if self._server is None:
            raise RuntimeError("this mock is in-process only; use the ingestion_server fixture for a URL")
        return self._server.url

    def index(self, name: str) -> list[Record]:
        """The records of a fake index, in insertion order.

        ``[]`` for an index nothing wrote to yet that this application knows of (a destination
        targets it, or a run still working will write to it); LookupError, naming the closest
        names, for a name nothing in this application mentions (a typo, most likely).
        """
        found = self.control.index(name, self.app_id)
        if found is not None:
            return found
        known = self.control.index_names(self.app_id)
        if name in known:
            return []
        from mockserver.flags import did_you_mean

        elsewhere = sorted(
            app["appID"]
            for app in self.control.applications()
            if app["appID"] != self.app_id and name in self.control.index_names(app["appID"])
        )
        hint = ""
        if elsewhere:
            hint = (
                f"; application(s) {elsewhere} of this mock have an index {name!r}: the code under test "
                "probably used other credentials (give the marker the code's app_id, or read it with "
                f"algolia_intercept.application({elsewhere[0]!r}).index({name!r}))"
            )
        raise LookupError(
            f"index {name!r}: nothing in application {self.app_id!r} wrote to it, targets it or will "
            f"write to it{did_you_mean(name, known)} (the indexes it knows: {sorted(known)}; to check "
            f"that nothing wrote to an index, use {name!r} not in ingestion_mock.account.indexes){hint}"
        )

    def seed(self, data_set: str | Path | Mapping[str, Any]) -> dict[str, int]:
        """Load a data set (bundled name, file, or inline mapping) into this test's application."""
        return self.control.seed(data_set, self.app_id)

    def source_records(self, source_id: str, records: list[Record]) -> int:
        """Give a source the records its runs fetch (what its URL or database holds)."""
        return self.control.source_records(source_id, records, self.app_id)

    def reset(self) -> None:
        """Empty the mock (state, journal, faults, clock and run settings): useful per Hypothesis example."""
        self.control.reset()

    def snapshot(self) -> str:
        return self.control.snapshot()

    def restore(self, snapshot_id: str) -> None:
        self.control.restore(snapshot_id)

    def set_clock(
        self, now: str | datetime | None = None, *, freeze: bool | None = None, advance: float | None = None
    ) -> dict[str, Any]:
        """Move the mock's clock: jump to ``now``, ``freeze`` or unfreeze it, ``advance`` it by seconds."""
        return self.control.clock(now=now, freeze=freeze, advance=advance, now_name="set_clock(now=...)")

    def set_runs(self, **policy: Any) -> dict[str, Any]:
        """How runs behave: mode ('immediate' or 'deferred'), start_after, finish_after, outcome,
        reason_code, reason."""
        return self.control.run_policy(**policy)

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Misbehave on purpose: operation, path_params, query, body (a subset), status, message,
        rate, times, latency, drop, drop_after, retry_after."""
        return self.control.add_fault(**rule)

    def stub(
        self,
        operation: str,
        *,
        status: int = 200,
        response: Any = None,
        headers: Mapping[str, str] | None = None,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str | list[str]] | None = None,
        body: Any = None,
        times: int | None = None,
        check: bool = True,
    ) -> dict[str, Any]:
        """Answer this test's requests of ``operation`` that match ``path_params``, ``query`` and
        ``body`` (a deep subset) with ``status``, ``response`` (the JSON body) and ``headers``, instead
        of acting on them: they change no state, and the journal marks them ``stubbed``.

        ``times``: the next N matching requests only (default: always); the newest matching stub
        answers. The answer must be one the spec documents for that operation and status, unless
        ``check=False`` (ValueError naming the field otherwise); an error status without a
        ``response`` answers the API's error body. Returns the stub with its ``id`` (see
        :meth:`remove_stub`)."""
        rule: dict[str, Any] = {
            "operation": operation,
            "status": status,
            "response": response,
            "headers": dict(headers or {}),
            "path_params": path_params,
            "query": query,
            "body": body,
            "times": times,
            "check": check,
        }
        return self.control.add_stub(app=self.app_id, **rule)

    def stubs(self) -> list[dict[str, Any]]:
        """The stubs answering this test's requests (the marker's and :meth:`stub`'s), oldest first."""
        found: list[dict[str, Any]] = self.control.stubs(self.app_id)["stubs"]
        return found

    def remove_stub(self, stub_id: str) -> None:
        """Remove one stub, the marker's or :meth:`stub`'s (LookupError when none has that ID)."""
        self.control.remove_stub(stub_id)

    def clear_stubs(self) -> None:
        """Remove every stub, the marker's and :meth:`stub`'s."""
        self.control.clear_stubs()

    def rate_limit(self, enabled: bool = True, **limits: Any) -> dict[str, Any]:
        """Enforce the documented rate limits (or custom ones: limit, window, observability_*)."""
        return self.control.rate_limit(enabled, **limits)

    def expect_rejection(self, operation_id: str | None = None, status: int | None = None) -> None:
        """Declare a rejection this test provokes on purpose (with ``fail_on_rejection`` on, any
        other rejection fails the test). An operation the spec does not have is refused (ValueError,
        with the closest name): an expectation that can match nothing would hide nothing."""
        operations = self.app.engine.spec.operations
        if operation_id is not None and operation_id not in operations:
            raise ValueError(
                f"expect_rejection: {operation_id!r} is not an operation of the spec"
                f"{did_you_mean(operation_id, operations)}"
            )
        self.expected_rejections.append(ExpectedRejection(operation_id, status))

    def unexpected_rejections(self) -> list[Call]:
        """The calls of this application the mock rejected that no ``expect_rejection`` covers."""
        return [
            c
            for c in self.journal.rejections()
            if c.app_id in (self.app_id, None) and not any(e.matches(c) for e in self.expected_rejections)
        ]

    def dump(self) -> dict[str, Any]:
        """This application's state as JSON, as the API shows it (no secrets)."""
        return self.control.dump(self.app_id)
