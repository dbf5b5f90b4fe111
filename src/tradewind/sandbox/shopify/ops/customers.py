"""Customers: one per email, whatever its case; the REST search syntax."""

from __future__ import annotations

import fnmatch

from tradewind.sandbox.shopify import documents as d
from tradewind.sandbox.shopify.ops.base import Resource, unprocessable
from tradewind.sandbox.shopify.state import Doc


class Customers(Resource):
    """Customers, and the customer an order is placed for."""

    def _email_taken(self, email: str | None, by: int | None = None) -> bool:
        """Shopify keeps one customer per email, whatever its case."""
        wanted = (email or "").strip().casefold()
        return bool(wanted) and any(
            (c.get("email") or "").strip().casefold() == wanted and c["id"] != by
            for c in self.shop.customers.values()
        )

    def create_customer(self, data: Doc, ident: int | None = None) -> Doc:
        if self._email_taken(data.get("email")):
            raise unprocessable("email", "has already been taken")
        ident = self.state.claim_id(ident)
        doc = d.customer(ident, data, self.now(), self.currency)
        self._set_addresses(doc, data.get("addresses") or [])
        self.shop.customers.put(ident, doc)
        self.emit("customers/create", doc)
        return doc

    def _set_addresses(self, doc: Doc, addresses: list[Doc]) -> None:
        built = [
            d.customer_address(
                a.get("id") or self.state.next_id(), doc["id"], a, default=index == 0
            )
            for index, a in enumerate(addresses)
        ]
        doc["addresses"] = built
        doc["default_address"] = built[0] if built else None

    def customer(self, ident: int) -> Doc:
        return self._get(self.shop.customers, ident)

    def update_customer(self, ident: int, data: Doc) -> Doc:
        doc = self._get(self.shop.customers, ident)
        if "email" in data and self._email_taken(data["email"], by=ident):
            raise unprocessable("email", "has already been taken")
        for key in ("email", "first_name", "last_name", "note", "phone", "verified_email"):
            if key in data:
                doc[key] = data[key]
        if "tags" in data:
            doc["tags"] = d.normalise_tags(data["tags"])
        if "accepts_marketing" in data:
            consent = doc["email_marketing_consent"]
            consent["state"] = "subscribed" if data["accepts_marketing"] else "not_subscribed"
            consent["opt_in_level"] = data.get("marketing_opt_in_level", consent["opt_in_level"])
            consent["consent_updated_at"] = data.get("accepts_marketing_updated_at", self.now())
        if "addresses" in data:
            self._set_addresses(doc, data["addresses"])
        doc["updated_at"] = self.now()
        self.shop.customers.put(ident, doc)
        self.emit("customers/update", doc)
        return doc

    def delete_customer(self, ident: int) -> None:
        self._get(self.shop.customers, ident)
        self.shop.customers.delete(ident)
        self.emit("customers/delete", {"id": ident})

    def search_customers(self, query: str) -> list[Doc]:
        # Shopify's search syntax: terms side by side must all hold; ``OR`` between
        # groups of terms lets any group match.
        groups = [_parse_search(" ".join(group)) for group in _or_groups(query)]
        exact = _exact_emails(groups)
        if exact is not None:  # "email:a OR email:b …": an index lookup, as Shopify's is
            return [c for c in self.shop.customers.values() if _email_of(c) in exact]
        return [c for c in self.shop.customers.values() if any(_matches(c, t) for t in groups)]

    def customer_for_order(self, data: Doc | None, email: str | None) -> Doc | None:
        if data and data.get("id"):
            found = self.shop.customers.get(int(data["id"]))
            if found is None:
                raise unprocessable("customer", "not found")
            return found
        email = (data or {}).get("email") or email
        if email:
            for c in self.shop.customers.values():
                if (c["email"] or "").casefold() == email.casefold():
                    return c
        if data and (data.get("email") or data.get("first_name") or data.get("last_name")):
            return self.create_customer(data)
        return None


def _or_groups(query: str) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for part in query.split():
        if part == "OR":
            groups.append([])
        else:
            groups[-1].append(part)
    return [group for group in groups if group] or [[]]


def _exact_emails(groups: list[list[tuple[str | None, str]]]) -> set[str] | None:
    emails: set[str] = set()
    for terms in groups:
        if len(terms) != 1 or terms[0][0] != "email" or any(ch in terms[0][1] for ch in "*?["):
            return None
        emails.add(terms[0][1].strip().casefold())
    return emails


def _email_of(doc: Doc) -> str:
    return str(doc.get("email") or "").strip().casefold()


def _parse_search(query: str) -> list[tuple[str | None, str]]:
    terms: list[tuple[str | None, str]] = []
    for part in query.split():
        if ":" in part:
            key, value = part.split(":", 1)
            terms.append((key, value))
        elif terms and terms[-1][0] is not None:
            last_key, last_value = terms[-1]
            terms[-1] = (last_key, f"{last_value} {part}")
        else:
            terms.append((None, part))
    return terms


def _matches(doc: Doc, terms: list[tuple[str | None, str]]) -> bool:
    for key, value in terms:
        wanted = value.lower()
        if key is None:
            haystack = " ".join(str(doc.get(k) or "") for k in ("email", "first_name", "last_name"))
            if wanted not in haystack.lower():
                return False
            continue
        if key == "customer_tag" or key == "tag":
            tags = [t.strip().lower() for t in str(doc.get("tags") or "").split(",")]
            if wanted not in tags:
                return False
            continue
        if key == "country":
            address = doc.get("default_address") or {}
            names = {
                str(address.get("country") or "").lower(),
                str(address.get("country_name") or "").lower(),
            }
            if wanted not in names:
                return False
            continue
        actual = doc.get(key)
        text = str(actual).lower() if actual is not None else ""
        if not fnmatch.fnmatch(text, wanted):
            return False
    return True
