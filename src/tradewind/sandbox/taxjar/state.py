"""The sandbox's accounts, one per API token: the account's nexus regions, its order and
refund transactions, its rate limit and whether its token still works. Thread-safe; the
HTTP handlers and the control API share one ``State``."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import date

from tradewind.sandbox.taxjar.errors import ApiError
from tradewind.sandbox.taxjar.transactions import Kind, Transaction

# The regions of TaxJar's documentation example, which a new account starts with.
DEFAULT_NEXUS: tuple[tuple[str, str], ...] = (("US", "CA"), ("US", "NY"), ("US", "WA"))
DEFAULT_PER_MINUTE = 10_000  # TaxJar's Professional plan
DUPLICATE = "Provider tranx already imported for your user account"


@dataclass
class Account:
    token: str
    user_id: int
    nexus: list[tuple[str, str]]
    per_minute: int
    revoked: bool = False
    calculations: int = 0
    transactions: dict[Kind, dict[str, Transaction]] = field(
        default_factory=lambda: {"order": {}, "refund": {}}
    )


class State:
    def __init__(self) -> None:
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()
        self._next_user = 10649

    def create_account(
        self,
        token: str | None = None,
        *,
        nexus: list[tuple[str, str]] | None = None,
        per_minute: int = DEFAULT_PER_MINUTE,
    ) -> Account:
        with self._lock:
            value = token or secrets.token_hex(16)
            if value in self._accounts:
                raise ValueError(f"token {value} already exists")
            account = Account(
                token=value,
                user_id=self._next_user,
                nexus=list(DEFAULT_NEXUS if nexus is None else nexus),
                per_minute=per_minute,
            )
            self._next_user += 1
            self._accounts[value] = account
            return account

    def account(self, token: str) -> Account | None:
        with self._lock:
            return self._accounts.get(token)

    def revoke(self, token: str) -> bool:
        with self._lock:
            account = self._accounts.get(token)
            if account is None:
                return False
            account.revoked = True
            return True

    def set_nexus(self, token: str, regions: list[tuple[str, str]]) -> None:
        with self._lock:
            self._accounts[token].nexus = list(regions)

    def count_calculation(self, account: Account) -> None:
        with self._lock:
            account.calculations += 1

    # --- transactions -------------------------------------------------------------------

    def create(self, account: Account, transaction: Transaction) -> Transaction:
        with self._lock:
            kept = account.transactions[transaction.kind]
            if transaction.transaction_id in kept:
                raise ApiError(422, DUPLICATE)
            kept[transaction.transaction_id] = transaction
            return transaction

    def get(self, account: Account, kind: Kind, transaction_id: str) -> Transaction:
        with self._lock:
            found = account.transactions[kind].get(transaction_id)
        if found is None:
            raise ApiError(404, f"{kind.capitalize()} transaction {transaction_id} not found")
        return found

    def put(self, account: Account, transaction: Transaction) -> None:
        with self._lock:
            account.transactions[transaction.kind][transaction.transaction_id] = transaction

    def delete(self, account: Account, kind: Kind, transaction_id: str) -> Transaction:
        with self._lock:
            found = account.transactions[kind].pop(transaction_id, None)
        if found is None:
            raise ApiError(404, f"{kind.capitalize()} transaction {transaction_id} not found")
        return found

    def ids(
        self,
        account: Account,
        kind: Kind,
        *,
        first: date | None,
        last: date | None,
        provider: str,
    ) -> list[str]:
        with self._lock:
            kept = list(account.transactions[kind].values())
        return [
            t.transaction_id
            for t in kept
            if t.provider == provider
            and (first is None or t.transaction_date.date() >= first)
            and (last is None or t.transaction_date.date() <= last)
        ]
