"""The API's ASGI level: body reads with a deadline, what is read from a scope, what is sent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mockserver.engine.errors import PayloadTooLarge, RequestTimeout
from mockserver.http.wire import (
    BodyDeadlines,
    ClientGone,
    WireRequest,
    query_pairs,
    read_body,
    route_path,
    send_answer,
)


def _stalling(first: bytes) -> Any:
    """A receive that hands over ``first`` and then never anything more."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": first, "more_body": True}
        await asyncio.Event().wait()  # forever
        raise AssertionError("unreachable")

    return receive


def test_a_stalled_body_read_ends_in_408_soon_after_its_deadline() -> None:
    async def main() -> float:
        deadlines = BodyDeadlines()
        started = time.monotonic()
        with pytest.raises(RequestTimeout, match=r"within 0\.2 seconds"):
            await read_body(_stalling(b'{"a"'), {}, 1000, 0.2, deadlines)
        return time.monotonic() - started

    took = asyncio.run(main())
    assert 0.2 <= took < 2.0


def test_reads_on_one_loop_time_out_each_on_its_own_deadline() -> None:
    async def main() -> list[str]:
        deadlines = BodyDeadlines()

        async def quick() -> str:
            async def receive() -> dict[str, Any]:
                await asyncio.sleep(0.05)
                return {"type": "http.request", "body": b"{}", "more_body": False}

            return (await read_body(receive, {}, 1000, 5.0, deadlines)).decode()

        async def stalled() -> str:
            try:
                await read_body(_stalling(b"{"), {}, 1000, 0.2, deadlines)
            except RequestTimeout:
                return "408"
            return "read"

        return list(await asyncio.gather(quick(), stalled(), quick()))

    assert asyncio.run(main()) == ["{}", "408", "{}"]


def test_a_cancel_from_elsewhere_is_not_turned_into_a_408() -> None:
    """The server cancelling a request (shutting down) is the server's: the cancel goes through."""

    async def main() -> None:
        deadlines = BodyDeadlines()
        reading = asyncio.ensure_future(read_body(_stalling(b"{"), {}, 1000, 30.0, deadlines))
        await asyncio.sleep(0.05)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading

    asyncio.run(main())


def test_the_scope_is_read_as_starlette_reads_it() -> None:
    scope = {
        "method": "GET",
        "path": "/mock/1/sources",
        "root_path": "/mock",
        "query_string": b"itemsPerPage=10&type=json&type=csv&empty=&x-algolia-api-key=k%C3%A9",
        "headers": [
            (b"x-algolia-application-id", b"APP"),
            (b"content-type", b"application/json"),
            (b"content-type", b"text/plain"),
        ],
        "client": ("10.0.0.1", 1234),
    }
    wire = WireRequest.of(scope, route_path(scope))
    assert wire.path == "/1/sources"
    assert wire.query == {
        "itemsPerPage": ["10"],
        "type": ["json", "csv"],
        "empty": [""],
        "x-algolia-api-key": ["k\u00e9"],  # percent-escapes as UTF-8, as Starlette reads them
    }
    assert wire.headers == {"content-type": "application/json"}  # the first of a repeated header
    assert wire.app_ids == ["APP"]
    assert wire.client_host == "10.0.0.1"


def test_an_answer_goes_out_with_its_length_and_type_as_starlette_sets_them() -> None:
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def main() -> None:
        await send_answer(send, 200, b'{"a":1}', {"X-Extra": "1"})
        await send_answer(send, 204, None, {})
        await send_answer(send, 404, None, {})

    asyncio.run(main())
    assert sent[0]["headers"] == [
        (b"x-extra", b"1"),
        (b"content-type", b"application/json"),
        (b"content-length", b"7"),
    ]
    assert sent[1]["body"] == b'{"a":1}'
    assert sent[2]["headers"] == [] and sent[3]["body"] == b""  # 204: no length at all
    assert sent[4]["headers"] == [(b"content-length", b"0")] and sent[5]["body"] == b""


def _pieces(*chunks: bytes) -> Any:
    """A receive that hands over ``chunks`` one message each, the last one ending the body."""
    queue = list(chunks)

    async def receive() -> dict[str, Any]:
        chunk = queue.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(queue)}

    return receive


@pytest.mark.parametrize(
    "chunks",
    [(b'{"a": 1}',), (b"", b'{"a"', b"", b": 1}"), (b'{"a', b'": ', b"1", b"}", b""), (b"",)],
)
def test_a_body_in_pieces_is_read_whole(chunks: tuple[bytes, ...]) -> None:
    body = asyncio.run(read_body(_pieces(*chunks), {}, 1000, 5.0, BodyDeadlines()))
    assert body == b"".join(chunks)
    assert type(body) is bytes


def test_a_body_over_the_limit_in_pieces_is_refused() -> None:
    with pytest.raises(PayloadTooLarge, match="more than the 10 bytes"):
        asyncio.run(read_body(_pieces(b"123456", b"78", b"901"), {}, 10, 5.0, BodyDeadlines()))


@given(st.text(alphabet="ab=&%+;2x0 \u00e9", max_size=30))
@example("itemsPerPage=10")
@example("a=1&b=&c&&=x&d==e&")
@example("a=%20+b&a=%zz")
def test_query_pairs_are_parse_qsl_with_blank_values_kept(text: str) -> None:
    assert query_pairs(text) == parse_qsl(text, keep_blank_values=True)


def _late(chunks: tuple[bytes, ...], ready: asyncio.Event) -> Any:
    """A receive whose every message waits for ``ready`` first, then hands over the next chunk."""
    queue = list(chunks)

    async def receive() -> dict[str, Any]:
        await ready.wait()
        chunk = queue.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(queue)}

    return receive


def test_a_body_there_at_once_is_read_without_arming_a_deadline() -> None:
    """Nothing was waited for: no deadline watch is made (nor the running task asked for)."""
    deadlines = BodyDeadlines()
    body = asyncio.run(read_body(_pieces(b'{"a": 1}'), {}, 1000, 5.0, deadlines))
    assert body == b'{"a": 1}'
    assert deadlines._last is None


def test_a_body_there_at_once_over_the_limit_is_refused() -> None:
    with pytest.raises(PayloadTooLarge, match="more than the 4 bytes"):
        asyncio.run(read_body(_pieces(b'{"a": 1}'), {}, 4, 5.0, BodyDeadlines()))


@pytest.mark.parametrize("chunks", [(b'{"a": 1}',), (b'{"a"', b": 1}"), (b"",)])
def test_a_body_that_has_to_be_waited_for_is_read_whole(chunks: tuple[bytes, ...]) -> None:
    async def main() -> bytes:
        ready = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, ready.set)
        return await read_body(_late(chunks, ready), {}, 1000, 5.0, BodyDeadlines())

    assert asyncio.run(main()) == b"".join(chunks)


def test_a_first_message_that_never_comes_ends_in_408() -> None:
    async def main() -> None:
        with pytest.raises(RequestTimeout, match=r"within 0\.2 seconds"):
            await read_body(_late((b"{}",), asyncio.Event()), {}, 1000, 0.2, BodyDeadlines())

    asyncio.run(main())


def test_a_cancel_from_elsewhere_while_the_first_message_is_awaited_goes_through() -> None:
    async def main() -> None:
        reading = asyncio.ensure_future(
            read_body(_late((b"{}",), asyncio.Event()), {}, 1000, 30.0, BodyDeadlines())
        )
        await asyncio.sleep(0.05)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading

    asyncio.run(main())


def test_a_client_gone_before_its_first_message_is_told() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    with pytest.raises(ClientGone):
        asyncio.run(read_body(receive, {}, 1000, 5.0, BodyDeadlines()))
