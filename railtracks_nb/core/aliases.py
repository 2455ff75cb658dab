"""Railtracks 1.7's names for attributes that are called otherwise here.

``rc_state = Alias[RTState]("rt_state")`` in a class body makes ``obj.rc_state``
read ``obj.rt_state``: one typed line for each old name, where a property each
would repeat the same three lines.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

__all__ = ["Alias"]

T = TypeVar("T")


class Alias(Generic[T]):
    """A read-only attribute that reads the attribute ``target`` of the same object."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.name = target

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Alias[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj, self.target)

    def __set__(self, obj: object, value: Any) -> None:
        raise AttributeError(
            f"{self.name!r} is read-only: it is the Railtracks name of {self.target!r}"
        )
