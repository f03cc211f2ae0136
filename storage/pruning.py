"""When a store deletes its expired rows: at most once per interval in each process.

Rows expire by their own time column, and deleting them on every write would add a
statement to each; so a store asks `due` as it writes, and prunes when the answer is True.
"""

from __future__ import annotations

from datetime import timedelta


class PruneSchedule:
    def __init__(self, every: timedelta) -> None:
        self.every_s = every.total_seconds()
        self._last_s: float | None = None

    def due(self, now_s: float) -> bool:
        """True, and noted as done, when no pruning happened in the last `every`."""
        if self._last_s is not None and now_s - self._last_s < self.every_s:
            return False
        self._last_s = now_s
        return True
