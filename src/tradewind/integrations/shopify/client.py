"""Talking to one Shopify store: REST and GraphQL over the SDK's HTTP client, the two
rate buckets Shopify keeps per app and store, and the access token (static, or OAuth with
expiring tokens refreshed under the plugin's credential lock).

Every Shopify failure is translated here, once, into the SDK's four errors; nothing else
in the connector catches HTTP or Shopify errors.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx2

from tradewind.connectors import (
    AuthFailed,
    BucketPolicy,
    ConnectorContext,
    HttpClient,
    Priority,
    RateLimited,
    Rejected,
    Unavailable,
    error_detail,
)
from tradewind.integrations.shopify.settings import ShopifySettings

# Standard-plan buckets; the real size is read from every response.
REST_BUCKET = BucketPolicy(name="rest", capacity=40, leak_per_second=2, background_share=0.5)
GRAPHQL_BUCKET = BucketPolicy(
    name="graphql", capacity=2000, leak_per_second=100, background_share=0.5
)
MUTATION_COST = 10
# From this version the inventory and refund mutations must carry ``@idempotent`` (it can be
# given from 2026-01; Tradewind sends it where it is required).
IDEMPOTENT_FROM = "2026-04"
REFRESH_MARGIN = 60.0  # refresh an expiring token this many seconds before it lapses

# Credential keys written by OAuth (the settings' own access token needs none of these).
OAUTH_TOKEN = "oauth_access_token"  # noqa: S105 - a key name
OAUTH_REFRESH = "oauth_refresh_token"
OAUTH_EXPIRES = "oauth_expires_at"
OAUTH_SCOPES = "oauth_scopes"


class ShopifyClient:
    def __init__(self, settings: ShopifySettings, context: ConnectorContext) -> None:
        self.settings = settings
        self.context = context
        self.version = settings.api_version
        headers = {"Accept": "application/json", "User-Agent": "Tradewind"}
        base = settings.store_url
        if settings.sandbox_url:
            if not context.allow_sandbox_hosts:
                raise Rejected(
                    "this plugin points at a sandbox, and this Tradewind does not allow "
                    "sandbox hosts (TRADEWIND_ALLOW_SANDBOX_HOSTS)"
                )
            base = settings.sandbox_url.rstrip("/")
            headers["Host"] = settings.shop  # the sandbox routes by Host, like Shopify
        self.rest_budget = context.budget(REST_BUCKET)
        self.graphql_budget = context.budget(GRAPHQL_BUCKET)
        self.http = HttpClient(
            base,
            headers=headers,
            transport=context.transport,
            budget=self.rest_budget,
            recorder=context.recorder,
        )

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------------- REST

    def rest(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        priority: Priority = Priority.LIVE,
        allow: tuple[int, ...] = (),
    ) -> httpx2.Response:
        """``path`` is relative to ``/admin/api/{version}/`` without ``.json``, or a full
        ``page_info`` link Shopify handed back."""
        url = path if path.startswith(("http", "/")) else f"/admin/api/{self.version}/{path}.json"
        response = self.http.request(
            method,
            url,
            operation=operation,
            params=params,
            json_body=json_body,
            headers=self._auth(),
            priority=priority,
            budget=self.rest_budget,
            allow=allow,
        )
        used = response.headers.get("X-Shopify-Shop-Api-Call-Limit", "")
        if "/" in used:
            level, size = used.split("/", 1)
            with contextlib.suppress(ValueError):  # a bad header never fails a good call
                self.rest_budget.observe(float(level), float(size))
        return response

    def absolute(self, url: str) -> str:
        """A link Shopify returned (absolute, on the shop's domain) as a path we can send."""
        return url.split(".myshopify.com", 1)[-1] if ".myshopify.com" in url else url

    # ---------------------------------------------------------------------- GraphQL

    def graphql(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation: str,
        cost: float = MUTATION_COST,
        priority: Priority = Priority.LIVE,
    ) -> dict[str, Any]:
        """Run one GraphQL document; returns ``data``. Throttling (HTTP 200 with
        ``THROTTLED``) becomes ``RateLimited`` with the wait Shopify's numbers imply."""
        response = self.http.request(
            "POST",
            f"/admin/api/{self.version}/graphql.json",
            operation=operation,
            json_body={"query": query, "variables": dict(variables or {})},
            headers=self._auth(),
            cost=cost,
            priority=priority,
            budget=self.graphql_budget,
        )
        try:
            body = response.json()
        except json.JSONDecodeError:
            raise Unavailable(f"{operation}: Shopify answered with something not JSON") from None
        throttle = ((body.get("extensions") or {}).get("cost") or {}).get("throttleStatus") or {}
        if throttle:
            maximum = float(throttle.get("maximumAvailable") or GRAPHQL_BUCKET.capacity)
            available = float(throttle.get("currentlyAvailable") or 0)
            self.graphql_budget.observe(max(0.0, maximum - available), maximum)
        errors = body.get("errors") or []
        if errors:
            self._graphql_errors(errors, throttle, cost, operation)
        data = body.get("data")
        if not isinstance(data, dict):
            raise Unavailable(f"{operation}: Shopify sent no data")
        return data

    def _graphql_errors(
        self,
        errors: list[dict[str, Any]],
        throttle: Mapping[str, Any],
        cost: float,
        operation: str,
    ) -> None:
        codes = {str((error.get("extensions") or {}).get("code", "")) for error in errors}
        message = "; ".join(str(error.get("message", "")) for error in errors)[:500]
        if "THROTTLED" in codes:
            restore = float(throttle.get("restoreRate") or GRAPHQL_BUCKET.leak_per_second)
            available = float(throttle.get("currentlyAvailable") or 0)
            wait = max(1.0, (cost - available) / restore)
            self.graphql_budget.throttled(wait)
            raise RateLimited(f"{operation}: Shopify throttled the query", retry_after=wait)
        if "ACCESS_DENIED" in codes:
            raise AuthFailed(f"{operation}: {message}")
        if "INTERNAL_SERVER_ERROR" in codes:
            raise Unavailable(f"{operation}: {message}")
        raise Rejected(f"{operation}: {message}")

    def mutate(
        self,
        document: str,
        variables: Mapping[str, Any],
        *,
        field: str,
        operation: str,
        errors: str = "userErrors",
        tolerate: tuple[str, ...] = (),
        priority: Priority = Priority.LIVE,
    ) -> dict[str, Any]:
        """Run one mutation; returns its payload (``data[field]``). Its ``errors`` become
        ``Rejected`` with each field's path and message, unless every message contains
        one of ``tolerate`` (then the payload is returned for the caller to read)."""
        data = self.graphql(
            document, variables, operation=operation, cost=MUTATION_COST, priority=priority
        )
        payload = data.get(field) or {}
        refused = payload.get(errors) or []
        if refused and not all(
            any(word in str(error.get("message", "")).lower() for word in tolerate)
            for error in refused
        ):
            detail = "; ".join(
                f"{'.'.join(error.get('field') or []) or 'base'}: {error.get('message')}"
                for error in refused
            )
            raise Rejected(f"{operation}: {detail}")
        return dict(payload)

    @staticmethod
    def made(payload: Mapping[str, Any], kind: str, operation: str) -> str:
        """The id of the ``kind`` object a mutation's payload says it made."""
        made = (payload.get(kind) or {}).get("legacyResourceId")
        if not made:
            raise Rejected(f"{operation}: Shopify made no {kind} and said nothing why")
        return legacy_id(made)

    def idempotent(self, material: str) -> str:
        """The ``@idempotent`` directive for a mutation whose intent is ``material``, on
        the versions that require it (empty before). A mutation resent after a lost answer
        reuses it, so Shopify applies it once."""
        if self.version < IDEMPOTENT_FROM:
            return ""
        key = hashlib.sha256(material.encode()).hexdigest()[:36]
        return f'@idempotent(key: "{key}")'

    # ------------------------------------------------------------------------- token

    def _auth(self) -> dict[str, str]:
        return {"X-Shopify-Access-Token": self.token()}

    def token(self) -> str:
        if self.settings.access_token is not None:
            return self.settings.access_token.get_secret_value()
        stored = self.context.credentials.get()
        token = stored.get(OAUTH_TOKEN)
        if not token:
            raise AuthFailed("the store is not authorized yet: click Reauthorize")
        expires = float(stored.get(OAUTH_EXPIRES) or 0)
        if expires and expires - REFRESH_MARGIN < time.time():
            return self._refresh()
        return token

    def _refresh(self) -> str:
        """Refresh an expiring token. Serialized per plugin across processes (two workers
        refreshing at once would spend the rotating refresh token twice), and the new
        refresh token is committed before the new access token is used."""
        with self.context.credentials.exclusive():
            stored = self.context.credentials.get()  # someone may have refreshed meanwhile
            expires = float(stored.get(OAUTH_EXPIRES) or 0)
            if stored.get(OAUTH_TOKEN) and expires - REFRESH_MARGIN >= time.time():
                return stored[OAUTH_TOKEN]
            refresh = stored.get(OAUTH_REFRESH)
            if not refresh or not self.settings.client_id or not self.settings.client_secret:
                raise AuthFailed("the access token expired and cannot be refreshed: Reauthorize")
            grant = self.token_request(
                {
                    "client_id": self.settings.client_id,
                    "client_secret": self.settings.client_secret.get_secret_value(),
                    "grant_type": "refresh_token",
                    "refresh_token": refresh,
                }
            )
            self.context.credentials.update(grant)
            return grant[OAUTH_TOKEN] or ""

    def token_request(self, body: Mapping[str, str]) -> dict[str, str | None]:
        """POST /admin/oauth/access_token; the answer as credential entries."""
        response = self.http.request(
            "POST",
            "/admin/oauth/access_token",
            operation="oauth.token",
            json_body=dict(body),
            budget=None,
            allow=(400, 401, 403),
        )
        if response.status_code != 200:
            detail = error_detail(response)  # Shopify's error field, never the body
            raise AuthFailed(
                f"Shopify refused the authorization ({response.status_code}): {detail}"
            )
        grant = response.json()
        expires_in = grant.get("expires_in")
        return {
            OAUTH_TOKEN: str(grant["access_token"]),
            OAUTH_REFRESH: grant.get("refresh_token"),
            OAUTH_EXPIRES: str(time.time() + float(expires_in)) if expires_in else None,
            OAUTH_SCOPES: str(grant.get("scope", "")),
        }


def gid(kind: str, value: str | int) -> str:
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def legacy_id(value: str | int) -> str:
    """``gid://shopify/Order/123`` → ``123``."""
    return str(value).rsplit("/", 1)[-1]


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
