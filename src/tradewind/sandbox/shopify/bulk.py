"""Bulk operations in sandbox time: each one moves CREATED → RUNNING → COMPLETED (or
FAILED, or CANCELING → CANCELED) on its own thread, with delays divided by the
sandbox's ``time_scale``; its JSONL result is kept in memory and served at an
unguessable URL, and ``bulk_operations/finish`` goes to the app that started it.

What the query returns is produced by a callable the GraphQL layer hands in, so this
module knows nothing of GraphQL. ``hold()`` / ``step()`` stop the clock so that tests
can watch each state; ``wait_for()`` waits on a state change rather than on time;
``tamper()`` garbles a finished result (a row no client can map).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlencode

from tradewind.sandbox.shopify.documents import gid
from tradewind.sandbox.shopify.ops.base import Event
from tradewind.sandbox.shopify.state import Doc

# Sandbox seconds: queued before it starts, and a floor plus a rate while it runs.
START_SECONDS = 1.0
RUN_FLOOR_SECONDS = 1.0
OBJECTS_PER_SECOND = 10_000.0

FINISH_TOPIC = "bulk_operations/finish"


class Status(StrEnum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


ACTIVE = frozenset({Status.CREATED, Status.RUNNING, Status.CANCELING})


@dataclass(frozen=True)
class Result:
    """What running the query gave: JSONL bytes and counts, or an error code."""

    body: bytes = b""
    objects: int = 0
    roots: int = 0
    error_code: str | None = None


@dataclass
class BulkOperation:
    id: int
    shop: str
    app_key: str
    query: str
    kind: str  # QUERY or MUTATION
    produce: Callable[[], Result]
    base_url: str
    status: Status = Status.CREATED
    created_at: str = ""
    completed_at: str | None = None
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    file_key: str | None = None
    history: list[Status] = field(default_factory=list)
    cancel_requested: bool = False

    @property
    def gid(self) -> str:
        return gid("BulkOperation", self.id)

    @property
    def url(self) -> str | None:
        if self.status is not Status.COMPLETED or self.file_key is None:
            return None
        # As Shopify's signed storage links: the file's name in the query string, which
        # the storage echoes as the download's Content-Disposition (clients parse it).
        name = f"bulk-{self.id}.jsonl"
        signed = urlencode(
            {
                "response-content-disposition": f'attachment; filename="{name}"; '
                f"filename*=UTF-8''{name}",
                "response-content-type": "application/jsonl",
            }
        )
        return f"{self.base_url}/_bulk/{self.file_key}.jsonl?{signed}"

    def finish_payload(self) -> Doc:
        return {
            "admin_graphql_api_id": self.gid,
            "completed_at": self.completed_at,
            "created_at": self.created_at,
            "error_code": self.error_code.lower() if self.error_code else None,
            "status": self.status.value.lower(),
            "type": self.kind.lower(),
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class BulkRunner:
    def __init__(
        self,
        next_id: Callable[[], int],
        publish: Callable[[list[Event]], None],
        time_scale: float = 1.0,
    ) -> None:
        self._next_id = next_id
        self._publish = publish
        self.time_scale = time_scale
        self.base_url = ""
        self._ops: dict[int, BulkOperation] = {}
        self._files: dict[str, bytes] = {}
        self._cond = threading.Condition()
        self._held = False
        self._permits = 0
        self._stopped = False

    # --- what the API asks ---------------------------------------------------------------

    def active(self, shop: str, app_key: str, kind: str) -> BulkOperation | None:
        with self._cond:
            for op in self._ops.values():
                if (op.shop, op.app_key, op.kind) == (shop, app_key, kind) and op.status in ACTIVE:
                    return op
            return None

    def current(self, shop: str, app_key: str, kind: str) -> BulkOperation | None:
        with self._cond:
            mine = [
                op
                for op in self._ops.values()
                if (op.shop, op.app_key, op.kind) == (shop, app_key, kind)
            ]
            return max(mine, key=lambda op: op.id) if mine else None

    def get(self, shop: str, app_key: str, ident: int) -> BulkOperation | None:
        with self._cond:
            op = self._ops.get(ident)
            return op if op is not None and (op.shop, op.app_key) == (shop, app_key) else None

    def file(self, key: str) -> bytes | None:
        with self._cond:
            return self._files.get(key)

    def submit(
        self,
        shop: str,
        app_key: str,
        query: str,
        produce: Callable[[], Result],
        kind: str = "QUERY",
    ) -> BulkOperation:
        """Queue an operation; returns it as it was created (CREATED), while its thread
        moves the live one on."""
        op = BulkOperation(
            id=self._next_id(),
            shop=shop,
            app_key=app_key,
            query=query,
            kind=kind,
            produce=produce,
            base_url=self.base_url,
            created_at=_now(),
        )
        with self._cond:
            op.history.append(op.status)
            self._ops[op.id] = op
            created = replace(op, history=list(op.history))
        threading.Thread(target=self._run, args=(op,), name=f"bulk-{op.id}", daemon=True).start()
        return created

    def cancel(self, op: BulkOperation) -> bool:
        """Ask a running operation to stop; False if it has already finished."""
        with self._cond:
            if op.status not in ACTIVE:
                return False
            if op.status is not Status.CANCELING:
                op.cancel_requested = True
                self._move(op, Status.CANCELING)
            return True

    # --- the clock, for tests -------------------------------------------------------------

    def hold(self) -> None:
        """Stop sandbox time for bulk operations: they move only on ``step()``."""
        with self._cond:
            self._held = True

    def step(self, count: int = 1) -> None:
        with self._cond:
            self._permits += count
            self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    def wait_for(
        self, op_id: int, statuses: frozenset[Status] | Status, timeout: float = 10.0
    ) -> Status | None:
        wanted = statuses if isinstance(statuses, frozenset) else frozenset({statuses})
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                op = self._ops.get(op_id)
                if op is not None and op.status in wanted:
                    return op.status
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def tamper(self, op_id: int, change: Callable[[bytes], bytes]) -> None:
        """Rewrite a finished operation's result (a fault: a row no client can read)."""
        with self._cond:
            op = self._ops[op_id]
            if op.file_key is None:
                raise ValueError(f"bulk operation {op_id} has no result")
            body = change(self._files[op.file_key])
            self._files[op.file_key] = body
            op.file_size = len(body)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # --- the operation's own thread -------------------------------------------------------

    def _move(self, op: BulkOperation, status: Status) -> None:
        op.status = status
        op.history.append(status)
        self._cond.notify_all()

    def _wait(self, op: BulkOperation, seconds: float) -> bool:
        """Let ``seconds`` of sandbox time pass (or one step when held); False when the
        operation was cancelled or the sandbox stopped meanwhile."""
        deadline = time.monotonic() + seconds / self.time_scale
        with self._cond:
            while True:
                if op.cancel_requested or self._stopped:
                    return False
                if self._held:
                    if self._permits:
                        self._permits -= 1
                        return True
                    self._cond.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return True
                self._cond.wait(remaining)

    def _run(self, op: BulkOperation) -> None:
        if not self._wait(op, START_SECONDS):
            self._end(op, Status.CANCELED)
            return
        with self._cond:
            self._move(op, Status.RUNNING)
        result = op.produce()
        with self._cond:
            op.object_count, op.root_object_count = result.objects, result.roots
        if result.error_code is not None:
            with self._cond:
                op.error_code = result.error_code
            self._end(op, Status.FAILED)
            return
        seconds = RUN_FLOOR_SECONDS + result.objects / OBJECTS_PER_SECOND
        if not self._wait(op, seconds):
            self._end(op, Status.CANCELED)
            return
        with self._cond:
            if result.objects:  # Shopify gives no file (url null) for an empty result
                op.file_key = secrets.token_urlsafe(24)
                self._files[op.file_key] = result.body
                op.file_size = len(result.body)
        self._end(op, Status.COMPLETED)

    def _end(self, op: BulkOperation, status: Status) -> None:
        with self._cond:
            if self._stopped:  # the sandbox is closing: nothing more is sent
                return
            op.completed_at = _now()
            self._move(op, status)
            payload = op.finish_payload()
        self._publish([Event(op.shop, FINISH_TOPIC, payload, op.app_key)])
