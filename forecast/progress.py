"""Progress reporting shared by long library calls: a terminal bar, a callback (e.g. the app's progress bar), or
nothing."""
from __future__ import annotations

from typing import Callable, Union

#: ``True`` → a tqdm bar on the terminal; a callable ``f(done, total)`` → called after every step; ``False`` → quiet
Progress = Union[bool, Callable[[int, int], None], None]


class _Callback:
    def __init__(self, func: Callable[[int, int], None], total: int):
        self.func, self.total, self.n = func, total, 0

    def update(self, n: int = 1) -> None:
        self.n += n
        self.func(min(self.n, self.total), self.total)

    def close(self) -> None:
        pass


class _Quiet:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def bar(progress: Progress, total: int, desc: str, unit: str = "step"):
    """An object with ``update(n)`` and ``close()`` reporting to ``progress`` (see :data:`Progress`)."""
    if callable(progress):
        return _Callback(progress, total)
    if progress:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit)
    return _Quiet()
