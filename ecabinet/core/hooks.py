"""Hooks: how a lower layer reaches a higher one without importing it.

A hook is declared by the domain that needs the contribution (below), and filled by the domains that
offer it (above), when they are imported at app start. For example the home page is a hook that each
domain fills with what it has for the signed-in user; the live room's event payloads for ballots are
built by the voting domain through a hook the live domain declares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Hook(Generic[F]):
    """An ordered set of named contributions. ``register`` is usable as a decorator."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[str, F] = {}

    def register(self, key: str) -> Callable[[F], F]:
        def decorate(fn: F) -> F:
            self._entries[key] = fn  # re-registering a key (a module imported twice) replaces it
            return fn

        return decorate

    def get(self, key: str) -> F | None:
        return self._entries.get(key)

    def items(self) -> Iterator[tuple[str, F]]:
        return iter(list(self._entries.items()))

    def __iter__(self) -> Iterator[F]:
        return iter(list(self._entries.values()))

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {sorted(self._entries)})"
