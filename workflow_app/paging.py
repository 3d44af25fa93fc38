"""Pages of long lists that do not count every row to say how many pages there are."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` rows: a department's list of 100,000 objections
    was counted through a join with their records on every page view (0.3 s at 400,000
    objections). Past the cap the list says "more than" (``capped``) and its pages end at
    the cap; the filters narrow it. The count is ``SELECT COUNT(*) FROM (… LIMIT cap + 1)``:
    it reads no further than the cap."""

    def __init__(self, object_list: Any, per_page: int, *, cap: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _found(self) -> int:
        rows: Any = self.object_list
        if not hasattr(rows, "order_by"):  # a list
            return len(rows[: self.cap + 1])
        # counting needs no order (which would walk an index)
        return int(rows.order_by()[: self.cap + 1].count())

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return min(self._found, self.cap)

    @property
    def capped(self) -> bool:
        """More rows than counted."""
        return self._found > self.cap
