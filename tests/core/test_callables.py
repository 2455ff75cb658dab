"""One rule for "is this callable async", shared by nodes and the publisher."""

from __future__ import annotations

import functools

import railtracks_nb as rt
from railtracks_nb.core.callables import is_async_callable


async def coro(x: int) -> int:
    return x


def plain(x: int) -> int:
    return x


class AsyncCall:
    async def __call__(self, x: int) -> int:
        return x


class SyncCall:
    def __call__(self, x: int) -> int:
        return x


def test_async_functions_objects_and_partials_are_async():
    assert is_async_callable(coro)
    assert is_async_callable(AsyncCall())
    assert is_async_callable(functools.partial(coro, 1))
    assert is_async_callable(functools.partial(functools.partial(coro), 1))


def test_sync_functions_objects_and_partials_are_not():
    assert not is_async_callable(plain)
    assert not is_async_callable(SyncCall())
    assert not is_async_callable(functools.partial(plain, 1))
    assert not is_async_callable(print)


def test_the_publisher_awaits_a_partial_of_an_async_callback():
    seen: list[str] = []

    async def record(tag: str, message: object) -> None:
        seen.append(f"{tag}:{type(message).__name__}")

    @rt.function_node
    async def one() -> int:
        return 1

    with rt.Session(save_state=False) as session:
        session.publisher.subscribe(functools.partial(record, "async"), name="partial")
        assert rt.call_sync(one) == 1
    assert any(s.startswith("async:Request") for s in seen), seen
