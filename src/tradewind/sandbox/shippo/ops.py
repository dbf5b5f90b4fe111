"""The operations of one account: every route's rules, returning Shippo's JSON objects and
raising ``ShippoError`` with Shippo's bodies. Changes that webhooks hear of are collected
in ``events``; the caller publishes them after the lock is released.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tradewind.sandbox.shippo.state import (
    CARRIERS,
    DISTANCE_UNITS,
    EXCHANGE,
    LADDER,
    POUNDS_PER,
    RATE_BUY_SECONDS,
    RATE_KEEP_SECONDS,
    RATE_TABLE,
    REQUIRED,
    STATUS_DETAILS,
    TEST_CARRIER,
    TEST_NUMBERS,
    TRACK_STATUSES,
    TRACKING_URLS,
    Account,
    Doc,
    Event,
    State,
    detail,
    field_errors,
    new_id,
    not_found,
    price,
)

ADDRESS_FIELDS = ("name", "company", "street1", "street2", "city", "state", "zip", "country")
PARCEL_FIELDS = ("length", "width", "height", "distance_unit", "weight", "mass_unit")
WEBHOOK_EVENTS = frozenset(
    {
        "transaction_created",
        "transaction_updated",
        "track_updated",
        "batch_created",
        "batch_purchased",
        "all",
    }
)
MAX_WEBHOOK_URL = 200


class Ops:
    def __init__(self, state: State, account: Account, base_url: str) -> None:
        self.state = state
        self.account = account
        self.base_url = base_url
        self.events: list[Event] = []

    # --- helpers --------------------------------------------------------------------

    def _object(self, **fields: Any) -> Doc:
        now = self.state.stamp()
        return {
            "object_id": new_id(),
            "object_created": now,
            "object_updated": now,
            "object_owner": self.account.owner,
            **fields,
            "test": self.account.test,
        }

    def _emit(self, event: str, data: Doc) -> None:
        self.events.append(Event(self.account.token, event, self.account.test, dict(data)))

    # --- addresses and parcels ------------------------------------------------------

    def address(self, given: Any, name: str = "") -> Doc:
        """An address from an object or an object id; ``name``: the field it came in (errors
        are nested under it), or "" for ``POST /addresses``."""
        if isinstance(given, str):
            found = self.account.addresses.get(given)
            if found is None:
                raise field_errors({name: [f'Invalid pk "{given}" - object does not exist.']})
            return found
        if not isinstance(given, dict):
            raise field_errors({name: [REQUIRED]})
        missing = [f for f in ("street1", "city", "zip", "country") if not given.get(f)]
        if missing:
            errors = {f: [REQUIRED] for f in missing}
            raise field_errors({name: errors} if name else errors)
        doc = self._object(
            **{f: str(given.get(f) or "") for f in ADDRESS_FIELDS},
            is_complete=True,
            phone=str(given.get("phone") or ""),
            email=str(given.get("email") or ""),
            validation_results={},
            is_residential=given.get("is_residential"),
            metadata=str(given.get("metadata") or ""),
        )
        self.account.addresses[doc["object_id"]] = doc
        return doc

    def parcel(self, given: Any, name: str = "parcels") -> Doc:
        if isinstance(given, str):
            found = self.account.parcels.get(given)
            if found is None:
                raise field_errors({name: [f'Invalid pk "{given}" - object does not exist.']})
            return found
        if not isinstance(given, dict):
            raise field_errors({name: [REQUIRED]})
        errors: dict[str, list[str]] = {}
        for f in PARCEL_FIELDS:
            if given.get(f) in (None, ""):
                errors[f] = [REQUIRED]
        for f in ("length", "width", "height", "weight"):
            if f not in errors:
                try:
                    if Decimal(str(given[f])) <= 0:
                        errors[f] = ["Ensure this value is greater than 0."]
                except InvalidOperation:
                    errors[f] = ["A valid number is required."]
        if "mass_unit" not in errors and given["mass_unit"] not in POUNDS_PER:
            errors["mass_unit"] = [f'"{given["mass_unit"]}" is not a valid choice.']
        if "distance_unit" not in errors and given["distance_unit"] not in DISTANCE_UNITS:
            errors["distance_unit"] = [f'"{given["distance_unit"]}" is not a valid choice.']
        if errors:
            raise field_errors({name: [errors]} if name == "parcels" else errors)
        doc = self._object(
            object_state="VALID",
            **{f: f"{Decimal(str(given[f])):.4f}" for f in ("length", "width", "height")},
            distance_unit=given["distance_unit"],
            weight=f"{Decimal(str(given['weight'])):.4f}",
            mass_unit=given["mass_unit"],
            template=None,
            extra=given.get("extra") or {},
            metadata=str(given.get("metadata") or ""),
            line_items=[],
        )
        self.account.parcels[doc["object_id"]] = doc
        return doc

    def stored(self, kind: str, object_id: str) -> Doc:
        store: dict[str, Doc] = getattr(self.account, kind)
        found = store.get(object_id)
        if found is None:
            raise not_found()
        return found

    # --- shipments and rates --------------------------------------------------------

    def create_shipment(self, body: Doc) -> Doc:
        errors: dict[str, Any] = {}
        for f in ("address_from", "address_to", "parcels"):
            if body.get(f) in (None, "", []):
                errors[f] = [REQUIRED]
        if errors:
            raise field_errors(errors)
        if not isinstance(body["parcels"], list):
            raise field_errors({"parcels": ['Expected a list of items but got type "dict".']})
        address_from = self.address(body["address_from"], "address_from")
        address_to = self.address(body["address_to"], "address_to")
        parcels = [self.parcel(p) for p in body["parcels"]]
        run_async = body.get("async", True) is not False
        shipment = self._object(
            status="QUEUED" if run_async else "SUCCESS",
            address_from=address_from,
            address_to=address_to,
            address_return=self.address(body["address_return"], "address_return")
            if body.get("address_return")
            else address_from,
            parcels=parcels,
            shipment_date=body.get("shipment_date") or self.state.stamp(),
            extra=body.get("extra") or {},
            customs_declaration=body.get("customs_declaration"),
            carrier_accounts=list(body.get("carrier_accounts") or []),
            metadata=str(body.get("metadata") or ""),
            messages=[],
            rates=[],
        )
        self.account.shipments[shipment["object_id"]] = shipment
        if run_async:
            self.account.polls_left[shipment["object_id"]] = self.state.polls
        else:
            self._rate(shipment)
        return shipment

    def _rate(self, shipment: Doc) -> None:
        pounds = sum(
            (Decimal(p["weight"]) * POUNDS_PER[p["mass_unit"]] for p in shipment["parcels"]),
            Decimal(0),
        )
        rates = []
        for service in RATE_TABLE:
            amount = f"{price(service, pounds)}"
            rates.append(
                self._object(
                    shipment=shipment["object_id"],
                    attributes=[],
                    amount=amount,
                    currency="USD",
                    amount_local=amount,
                    currency_local="USD",
                    provider=service.provider,
                    provider_image_75=f"{self.base_url}/static/providers/75/{service.provider}.png",
                    provider_image_200=f"{self.base_url}/static/providers/200/{service.provider}.png",
                    servicelevel={
                        "name": service.name,
                        "token": service.token,
                        "terms": service.terms,
                        "extended_token": service.token,
                        "parent_servicelevel": None,
                    },
                    estimated_days=service.days,
                    arrives_by=None,
                    duration_terms=service.terms,
                    messages=[],
                    carrier_account=f"sandbox-{service.provider.lower()}",
                    zone="1",
                    included_insurance_price=None,
                )
            )
        _mark(rates)
        for rate in rates:
            self.account.rates[rate["object_id"]] = rate
        shipment["rates"] = rates
        shipment["status"] = "SUCCESS"
        shipment["object_updated"] = self.state.stamp()

    def shipment(self, shipment_id: str, poll: bool = False) -> Doc:
        shipment = self.stored("shipments", shipment_id)
        if poll and self._polled(shipment_id):
            self._rate(shipment)
        return shipment

    def _polled(self, object_id: str) -> bool:
        """One poll of a queued object; True when this poll completes it."""
        left = self.account.polls_left.get(object_id)
        if left is None:
            return False
        if left > 1:
            self.account.polls_left[object_id] = left - 1
            return False
        del self.account.polls_left[object_id]
        return True

    def rates(self, shipment_id: str, query: Doc, currency: str | None = None) -> Doc:
        rates = [dict(r) for r in self.shipment(shipment_id)["rates"] if self._kept(r)]
        if currency is not None:
            factor = EXCHANGE.get(currency.upper())
            if factor is None:
                raise detail(400, f"Currency '{currency}' is not supported.")
            for rate in rates:
                local = (Decimal(rate["amount"]) * factor).quantize(Decimal("0.01"))
                rate["amount_local"] = f"{local}"
                rate["currency_local"] = currency.upper()
        return self.page(rates, query, f"/shipments/{shipment_id}/rates")

    def rate(self, rate_id: str) -> Doc:
        rate = self.stored("rates", rate_id)
        if not self._kept(rate):
            raise not_found()
        return rate

    def _kept(self, rate: Doc) -> bool:
        return self.state.clock() - _epoch(rate["object_created"]) <= RATE_KEEP_SECONDS

    def page(self, items: list[Doc], query: Doc, path: str) -> Doc:
        """Shippo's pagination: ``page`` (from 1) and ``results`` (per page, default 25)."""
        try:
            number = max(1, int(query.get("page", 1)))
            size = max(1, min(100, int(query.get("results", 25))))
        except ValueError:
            raise detail(400, "Invalid page.") from None
        start = (number - 1) * size
        chunk = items[start : start + size]
        if start and not chunk:
            raise detail(404, "Invalid page.")

        def link(n: int) -> str:
            return f"{self.base_url}{path}?page={n}&results={size}"

        return {
            "count": len(items),
            "next": link(number + 1) if start + size < len(items) else None,
            "previous": link(number - 1) if number > 1 else None,
            "results": chunk,
        }

    # --- transactions ---------------------------------------------------------------

    def create_transaction(self, body: Doc) -> Doc:
        if body.get("shipment") is not None and not body.get("rate"):
            body = {**body, "rate": self._instant_rate(body)}
        rate_id = body.get("rate")
        if not rate_id:
            raise field_errors({"rate": [REQUIRED]})
        rate = self.account.rates.get(str(rate_id))
        if rate is None:
            raise field_errors({"rate": [f'Invalid pk "{rate_id}" - object does not exist.']})
        label_type = str(body.get("label_file_type") or "PDF_4x6")
        shipment = self.account.shipments[rate["shipment"]]
        transaction = self._object(
            object_state="VALID",
            status="QUEUED",
            rate=rate["object_id"],
            # Today's API names who bought the label (the official SDK requires the key).
            created_by={
                "first_name": "Sandbox",
                "last_name": "Merchant",
                "username": self.account.owner,
            },
            parcel=shipment["parcels"][0]["object_id"],
            tracking_number="",
            tracking_status=None,
            tracking_history=[],
            tracking_url_provider="",
            label_url="",
            label_file_type=label_type,
            commercial_invoice_url=None,
            qr_code_url=None,
            eta=None,
            messages=[],
            order=None,
            metadata=str(body.get("metadata") or ""),
        )
        self.account.transactions[transaction["object_id"]] = transaction
        problem = self._cannot_buy(rate)
        if problem is not None:
            # Shippo accepts the request (201) and reports the failure on the object.
            transaction.update(status="ERROR", object_state="INVALID", messages=[problem])
            self._emit("transaction_created", transaction)
            return transaction
        self.account.bought[rate["object_id"]] = transaction["object_id"]
        if body.get("async", True) is False:
            self._label(transaction, rate)
        else:
            self.account.polls_left[transaction["object_id"]] = self.state.polls
        return transaction

    def _instant_rate(self, body: Doc) -> str:
        """Instant purchase: rate the given ``shipment`` at once and pick the rate of
        ``servicelevel_token`` (``carrier_account`` is required, as Shippo asks)."""
        errors = {
            f: [REQUIRED] for f in ("carrier_account", "servicelevel_token") if not body.get(f)
        }
        if errors:
            raise field_errors(errors)
        given = body["shipment"]
        if not isinstance(given, dict):
            raise field_errors({"shipment": [REQUIRED]})
        shipment = self.create_shipment({**given, "async": False})
        token = body["servicelevel_token"]
        for rate in shipment["rates"]:
            if rate["servicelevel"]["token"] == token:
                return str(rate["object_id"])
        raise field_errors({"servicelevel_token": [f'"{token}" is not a valid choice.']})

    def _cannot_buy(self, rate: Doc) -> Doc | None:
        created = _epoch(rate["object_created"])
        if self.state.clock() - created > RATE_BUY_SECONDS:
            return {
                "source": "shippo",
                "code": "rate_expired",
                "text": "This rate is older than 7 days and can no longer be purchased. "
                "Please request new rates.",
            }
        earlier = self.account.bought.get(rate["object_id"])
        if earlier is not None:
            return {
                "source": "shippo",
                "code": "rate_already_purchased",
                "text": f"This rate has already been purchased in transaction {earlier}.",
            }
        return None

    def _label(self, transaction: Doc, rate: Doc) -> None:
        carrier = rate["provider"].lower()
        number = f"92055901{self.account.next_tracking:014d}"
        self.account.next_tracking += 1
        self.account.labels += 1
        url = TRACKING_URLS.get(carrier, "{n}").format(n=number)
        transaction.update(
            status="SUCCESS",
            tracking_number=number,
            tracking_status="UNKNOWN",
            tracking_url_provider=url,
            label_url=f"{self.base_url}/labels/{transaction['object_id']}.pdf",
            eta=None,
            object_updated=self.state.stamp(),
        )
        shipment = self.account.shipments[rate["shipment"]]
        track = self._new_track(carrier, number, "UNKNOWN", shipment, rate)
        track["transaction"] = transaction["object_id"]
        self.account.tracks[(carrier, number)] = track  # labels register themselves
        self._emit("transaction_created", transaction)

    def transaction(self, transaction_id: str, poll: bool = False) -> Doc:
        transaction = self.stored("transactions", transaction_id)
        if poll and self._polled(transaction_id):
            self._label(transaction, self.account.rates[transaction["rate"]])
        return transaction

    # --- refunds --------------------------------------------------------------------

    def create_refund(self, body: Doc) -> Doc:
        """A refund of a label: in test mode it succeeds at once (as Shippo's test labels
        do), in live mode it waits for the carrier (``QUEUED``, the label
        ``REFUNDPENDING``). A label is refunded once."""
        transaction_id = body.get("transaction")
        if not transaction_id:
            raise field_errors({"transaction": [REQUIRED]})
        transaction = self.account.transactions.get(str(transaction_id))
        if transaction is None:
            raise field_errors(
                {"transaction": [f'Invalid pk "{transaction_id}" - object does not exist.']}
            )
        if any(r["transaction"] == transaction["object_id"] for r in self.account.refunds.values()):
            raise field_errors({"transaction": ["Refund with this Transaction already exists."]})
        if transaction["status"] != "SUCCESS":
            raise field_errors(
                {"transaction": ["Only a successful transaction (a label) can be refunded."]}
            )
        done = self.account.test
        refund = self._object(
            status="SUCCESS" if done else "QUEUED", transaction=transaction["object_id"]
        )
        self.account.refunds[refund["object_id"]] = refund
        transaction.update(
            status="REFUNDED" if done else "REFUNDPENDING", object_updated=self.state.stamp()
        )
        return refund

    # --- tracks ---------------------------------------------------------------------

    def _new_track(
        self, carrier: str, number: str, status: str, shipment: Doc | None, rate: Doc | None
    ) -> Doc:
        def place(address: Doc | None) -> Doc:
            a = address or {}
            return {k: a.get(k, "") for k in ("city", "state", "zip")} | {
                "country": a.get("country", "US")
            }

        track: Doc = {
            "carrier": carrier,
            "tracking_number": number,
            "address_from": place(shipment["address_from"] if shipment else None),
            "address_to": place(shipment["address_to"] if shipment else None),
            "eta": None,
            "original_eta": None,
            "servicelevel": {
                "token": rate["servicelevel"]["token"] if rate else None,
                "name": rate["servicelevel"]["name"] if rate else None,
            },
            "metadata": None,
            "messages": [],
            "transaction": None,
            "test": self.account.test,
            "tracking_status": None,
            "tracking_history": [],
        }
        self._set_status(track, status)
        return track

    def _set_status(self, track: Doc, status: str) -> None:
        details, city, state, zip_code = STATUS_DETAILS[status]
        now = self.state.stamp()
        entry = {
            "object_created": now,
            "object_updated": now,
            "object_id": new_id(),
            "status": status,
            "status_details": details,
            "status_date": now,
            "substatus": None,
            "location": {"city": city, "state": state, "zip": zip_code, "country": "US"}
            if city
            else None,
        }
        track["tracking_status"] = entry
        track["tracking_history"].append(dict(entry))

    def _track(self, carrier: str, number: str) -> Doc:
        carrier = carrier.lower()
        if carrier not in CARRIERS:
            raise detail(400, f"Carrier with name '{carrier.upper()}' is not supported.")
        found = self.account.tracks.get((carrier, number))
        if found is not None:
            return found
        status = TEST_NUMBERS.get(number, "UNKNOWN") if carrier == TEST_CARRIER else "UNKNOWN"
        return self._new_track(carrier, number, status, None, None)

    def get_track(self, carrier: str, number: str) -> Doc:
        return self._track(carrier, number)

    def register_track(self, body: Doc) -> Doc:
        errors = {f: [REQUIRED] for f in ("carrier", "tracking_number") if not body.get(f)}
        if errors:
            raise field_errors(errors)
        track = self._track(str(body["carrier"]), str(body["tracking_number"]))
        if body.get("metadata") is not None:
            track["metadata"] = str(body["metadata"])
        self.account.tracks[(track["carrier"], track["tracking_number"])] = track
        return track

    def advance(self, carrier: str, number: str, to: str | None) -> Doc:
        track = self.account.tracks.get((carrier, number))
        if track is None:
            raise KeyError(number)
        current = track["tracking_status"]["status"]
        if to is None:
            if current not in LADDER or current == LADDER[-1]:
                raise ValueError(f"{current} is final; give a status")
            to = LADDER[LADDER.index(current) + 1]
        if to not in TRACK_STATUSES:
            raise ValueError(f"unknown status {to}")
        self._set_status(track, to)
        transaction_id = track.get("transaction")
        if transaction_id:
            transaction = self.account.transactions[transaction_id]
            transaction["tracking_status"] = to
            transaction["object_updated"] = self.state.stamp()
            self._emit("transaction_updated", transaction)
        self._emit("track_updated", track)
        return track

    # --- webhooks -------------------------------------------------------------------

    def create_webhook(self, body: Doc) -> Doc:
        errors: dict[str, list[str]] = {}
        url = str(body.get("url") or "")
        event = str(body.get("event") or "")
        if not url:
            errors["url"] = [REQUIRED]
        elif len(url) >= MAX_WEBHOOK_URL:
            errors["url"] = [
                f"Ensure this field has no more than {MAX_WEBHOOK_URL - 1} characters."
            ]
        if not event:
            errors["event"] = [REQUIRED]
        elif event not in WEBHOOK_EVENTS:
            errors["event"] = [f'"{event}" is not a valid choice.']
        if errors:
            raise field_errors(errors)
        hook = self._object(
            event=event,
            url=url,
            active=body.get("active", True) is not False,
            is_test=bool(body.get("is_test", self.account.test)),
        )
        self.account.webhooks[hook["object_id"]] = hook
        return hook

    def update_webhook(self, hook_id: str, body: Doc) -> Doc:
        hook = self.stored("webhooks", hook_id)
        for name in ("event", "url", "active", "is_test"):
            if name in body:
                hook[name] = body[name]
        hook["object_updated"] = self.state.stamp()
        return hook

    def delete_webhook(self, hook_id: str) -> None:
        if self.account.webhooks.pop(hook_id, None) is None:
            raise not_found()


def _mark(rates: list[Doc]) -> None:
    """CHEAPEST: lowest amount; FASTEST: fewest days (then cheaper); BESTVALUE: lowest
    amount × days (then cheaper). Each goes to exactly one rate."""
    if not rates:
        return

    def amount(r: Doc) -> Decimal:
        return Decimal(r["amount"])

    picks = {
        "CHEAPEST": min(rates, key=amount),
        "FASTEST": min(rates, key=lambda r: (r["estimated_days"], amount(r))),
        "BESTVALUE": min(rates, key=lambda r: (amount(r) * r["estimated_days"], amount(r))),
    }
    for attribute, rate in picks.items():
        rate["attributes"].append(attribute)


def _epoch(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
