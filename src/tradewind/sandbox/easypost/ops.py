"""The operations of one EasyPost account within one request: addresses, parcels,
shipments with their rates, labels and refunds, trackers and webhooks, each returning
EasyPost's JSON document or raising ``EasyPostError`` (the rules and tables live in
``state.py``)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tradewind.sandbox.easypost.state import (
    CARRIERS,
    CENT,
    DETAILS,
    INSURANCE_FEE,
    LADDER,
    RATE_TABLE,
    RETAIL_MARKUP,
    TEST_CODES,
    Account,
    Doc,
    EasyPostError,
    Event,
    State,
    new_id,
    not_found,
    price,
    required,
)


@dataclass
class Ops:
    """The operations of one account within one request; ``events`` are what to deliver
    once the lock is released."""

    state: State
    account: Account
    base_url: str
    events: list[Event] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return self.account.mode

    # --- addresses and parcels ------------------------------------------------------

    def address(self, given: Any, name: str) -> Doc:
        if not isinstance(given, dict):
            raise required(name)
        if "id" in given and len(given) == 1:
            found = self.account.addresses.get(str(given["id"]))
            if found is None:
                raise not_found()
            return found
        now = self.state.address_stamp()
        doc: Doc = {
            "id": new_id("adr"),
            "object": "Address",
            "created_at": now,
            "updated_at": now,
        }
        for key in ("name", "company", "street1", "street2", "city", "state", "zip"):
            doc[key] = _text(given.get(key))
        doc["country"] = _text(given.get("country")) or "US"
        doc["phone"] = _text(given.get("phone"))
        doc["email"] = _text(given.get("email"))
        doc["mode"] = self.mode
        doc["carrier_facility"] = None
        doc["residential"] = given.get("residential")
        doc["federal_tax_id"] = None
        doc["state_tax_id"] = None
        doc["verifications"] = {}
        self.account.addresses[doc["id"]] = doc
        return doc

    def parcel(self, given: Any, prefix: str) -> Doc:
        if not isinstance(given, dict):
            raise required(prefix)
        if "id" in given and len(given) == 1:
            found = self.account.parcels.get(str(given["id"]))
            if found is None:
                raise not_found()
            return found
        if given.get("weight") in (None, ""):
            raise required(f"{prefix}.weight")
        dims: dict[str, float | None] = {}
        for key in ("length", "width", "height", "weight"):
            value = given.get(key)
            if value in (None, ""):
                dims[key] = None
                continue
            try:
                number = Decimal(str(value))
            except ArithmeticError:
                raise _invalid(f"{prefix}.{key}", "must be a number") from None
            if not number.is_finite() or number <= 0:
                raise _invalid(f"{prefix}.{key}", "must be greater than 0")
            dims[key] = float(number)
        now = self.state.stamp()
        doc: Doc = {
            "id": new_id("prcl"),
            "object": "Parcel",
            "created_at": now,
            "updated_at": now,
            **{k: dims[k] for k in ("length", "width", "height")},
            "predefined_package": given.get("predefined_package"),
            "weight": dims["weight"],
            "mode": self.mode,
        }
        self.account.parcels[doc["id"]] = doc
        return doc

    def stored(self, kind: str, object_id: str) -> Doc:
        """An address or a parcel made earlier."""
        found = (self.account.addresses if kind == "addresses" else self.account.parcels).get(
            object_id
        )
        if found is None:
            raise not_found()
        return found

    # --- shipments ------------------------------------------------------------------

    def create_shipment(self, body: Doc) -> Doc:
        given = body.get("shipment")
        if not isinstance(given, dict) or not given:
            raise required("shipment")
        missing = [
            f"shipment.{name}"
            for name in ("to_address", "from_address", "parcel")
            if not isinstance(given.get(name), dict)
        ]
        if missing:
            raise required(*missing)
        to_address = self.address(given["to_address"], "shipment.to_address")
        from_address = self.address(given["from_address"], "shipment.from_address")
        parcel = self.parcel(given["parcel"], "shipment.parcel")
        now = self.state.stamp()
        options = given.get("options") if isinstance(given.get("options"), dict) else {}
        shipment: Doc = {
            "id": new_id("shp"),
            "created_at": now,
            "is_return": bool(given.get("is_return", False)),
            "messages": [],
            "mode": self.mode,
            "options": {"currency": "USD", "payment": {"type": "SENDER"}, "date_advance": 0}
            | dict(options or {}),
            "reference": given.get("reference"),
            "status": "unknown",
            "tracking_code": None,
            "updated_at": now,
            "batch_id": None,
            "batch_status": None,
            "batch_message": None,
            "customs_info": given.get("customs_info")
            if isinstance(given.get("customs_info"), dict)
            else None,
            "from_address": from_address,
            "insurance": None,
            "order_id": None,
            "parcel": parcel,
            "postage_label": None,
            "rates": [],
            "refund_status": None,
            "scan_form": None,
            "selected_rate": None,
            "tracker": None,
            "to_address": to_address,
            "usps_zone": 4,
            "return_address": from_address,
            "buyer_address": to_address,
            "forms": [],
            "fees": [],
            "object": "Shipment",
        }
        carriers = self._carriers(given.get("carrier_accounts"))
        self._rate(shipment, carriers)
        self.account.shipments[shipment["id"]] = shipment
        service = given.get("service")
        if service:  # one-call buy: rate with the given accounts and buy that service
            rate = next((r for r in shipment["rates"] if r["service"] == service), None)
            if rate is None:
                raise EasyPostError(
                    422,
                    "SHIPMENT.POSTAGE.FAILURE",
                    f"No rate found for service {service} with the given carrier accounts.",
                )
            self.buy(shipment["id"], {"rate": {"id": rate["id"]}})
        return shipment

    def _carriers(self, given: Any) -> list[str]:
        if not isinstance(given, list) or not given:
            return list(CARRIERS)
        ids = {str(item["id"] if isinstance(item, dict) else item) for item in given}
        return [c for c, ca in self.account.carrier_accounts.items() if ca in ids]

    def _rate(self, shipment: Doc, carriers: Iterable[str]) -> None:
        """Fill ``rates`` (and ``messages`` for carriers that cannot rate) from the table."""
        for old in shipment["rates"]:
            self.account.rates.pop(old["id"], None)
        weight = Decimal(str(shipment["parcel"]["weight"]))
        now = self.state.stamp()
        rates: list[Doc] = []
        messages: list[Doc] = []
        wanted = set(carriers)
        for service in RATE_TABLE:
            if service.carrier not in wanted:
                continue
            account_id = self.account.carrier_accounts[service.carrier]
            if weight < service.min_weight_oz:
                message = {
                    "carrier": service.carrier,
                    "carrier_account_id": account_id,
                    "type": "rate_error",
                    "message": f"Parcels under {service.min_weight_oz} oz cannot be rated.",
                }
                if message not in messages:
                    messages.append(message)
                continue
            amount = price(service, weight)
            retail = (amount * RETAIL_MARKUP).quantize(CENT, ROUND_HALF_UP)
            rate: Doc = {
                "id": new_id("rate"),
                "object": "Rate",
                "created_at": now,
                "updated_at": now,
                "mode": self.mode,
                "service": service.service,
                "carrier": service.carrier,
                "rate": str(amount),
                "currency": "USD",
                "retail_rate": str(retail),
                "retail_currency": "USD",
                "list_rate": str(amount),
                "list_currency": "USD",
                "billing_type": "easypost",
                "delivery_days": service.delivery_days,
                "delivery_date": None,
                "delivery_date_guaranteed": False,
                "est_delivery_days": service.delivery_days,
                "shipment_id": shipment["id"],
                "carrier_account_id": account_id,
            }
            rates.append(rate)
            self.account.rates[rate["id"]] = rate
        shipment["rates"] = rates
        shipment["messages"] = messages

    def shipment(self, shipment_id: str) -> Doc:
        found = self.account.shipments.get(shipment_id)
        if found is None:
            raise not_found()
        return found

    def rate(self, rate_id: str) -> Doc:
        found = self.account.rates.get(rate_id)
        if found is None:
            raise not_found()
        return found

    def rerate(self, shipment_id: str) -> Doc:
        shipment = self.shipment(shipment_id)
        carriers = {r["carrier"] for r in shipment["rates"]} | {
            m["carrier"] for m in shipment["messages"]
        }
        self._rate(shipment, carriers or CARRIERS)
        shipment["updated_at"] = self.state.stamp()
        return {"rates": shipment["rates"]}

    def buy(self, shipment_id: str, body: Doc) -> Doc:
        shipment = self.shipment(shipment_id)
        given = body.get("rate")
        rate_id = given.get("id") if isinstance(given, dict) else given
        if not rate_id:
            raise required("rate")
        if shipment["postage_label"] is not None:
            raise EasyPostError(
                422, "SHIPMENT.POSTAGE.EXISTS", "Postage has already been purchased."
            )
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if rate is None:
            raise EasyPostError(
                422,
                "SHIPMENT.RATE.INVALID",
                "The rate does not belong to this shipment.",
                [{"field": "rate.id", "message": "is not a rate of this shipment"}],
            )
        insured = _insured(body.get("insurance"))  # checked before anything is written
        now = self.state.stamp()
        label_id = new_id("pl")
        shipment["selected_rate"] = rate
        shipment["postage_label"] = {
            "object": "PostageLabel",
            "id": label_id,
            "created_at": now,
            "updated_at": now,
            "date_advance": 0,
            "integrated_form": "none",
            "label_date": now,
            "label_resolution": 300,
            "label_size": "4x6",
            "label_type": "default",
            "label_file_type": "image/png",
            "label_url": f"{self.base_url}/files/postage_label/{label_id}.png",
            "label_pdf_url": None,
            "label_zpl_url": None,
            "label_epl2_url": None,
            "label_file": None,
        }
        code = self._tracking_code()
        shipment["tracking_code"] = code
        fees: list[Doc] = [_fee("PostageFee", Decimal(rate["rate"]))]
        if insured is not None:
            shipment["insurance"] = str(body["insurance"])
            fees.append(_fee("InsuranceFee", insured * INSURANCE_FEE))
        shipment["fees"] = fees
        shipment["updated_at"] = now
        tracker = self._new_tracker(code, rate["carrier"], "unknown", shipment_id=shipment["id"])
        shipment["tracker"] = tracker
        self.account.labels_bought += 1
        return shipment

    def _tracking_code(self) -> str:
        number = self.account.next_tracking
        self.account.next_tracking += 1
        prefix = "9400" if self.mode == "test" else "9405"
        return f"{prefix}{number:018d}"

    def refund(self, shipment_id: str) -> Doc:
        shipment = self.shipment(shipment_id)
        if shipment["postage_label"] is None:
            raise EasyPostError(
                422, "SHIPMENT.REFUND.UNAVAILABLE", "The shipment has no postage to refund."
            )
        if shipment["refund_status"] is not None:
            raise EasyPostError(
                422,
                "SHIPMENT.REFUND.EXISTS",
                "A refund has already been requested for this shipment.",
            )
        shipment["refund_status"] = "submitted"
        shipment["updated_at"] = self.state.stamp()
        self.account.labels_refunded += 1
        return shipment

    # --- trackers -------------------------------------------------------------------

    def create_tracker(self, body: Doc) -> Doc:
        given = body.get("tracker")
        if not isinstance(given, dict) or not given.get("tracking_code"):
            raise required("tracker.tracking_code")
        code = str(given["tracking_code"])
        carrier = str(given.get("carrier") or "USPS")
        for tracker in self.account.trackers.values():
            if tracker["tracking_code"] == code and tracker["carrier"] == carrier:
                return tracker
        status = TEST_CODES.get(code, "unknown") if self.mode == "test" else "unknown"
        return self._new_tracker(code, carrier, status)

    def _new_tracker(
        self, code: str, carrier: str, status: str, *, shipment_id: str | None = None
    ) -> Doc:
        now = self.state.clock()
        tracker_id = new_id("trk")
        tracker: Doc = {
            "id": tracker_id,
            "object": "Tracker",
            "mode": self.mode,
            "tracking_code": code,
            "status": status,
            "status_detail": "unknown",
            "created_at": self.state.stamp(now),
            "updated_at": self.state.stamp(now),
            "signed_by": None,
            "weight": None,
            "est_delivery_date": self.state.stamp(now + timedelta(days=3)),
            "shipment_id": shipment_id,
            "carrier": carrier,
            "tracking_details": [],
            "fees": [],
            "carrier_detail": None,
            "finalized": False,
            "is_return": False,
            "public_url": f"{self.base_url}/track/{tracker_id}",
        }
        # A test code reports its status with the history that leads to it.
        steps = list(LADDER[: LADDER.index(status) + 1]) if status in LADDER else []
        if status in DETAILS and status not in LADDER:
            steps = ["pre_transit", "in_transit", status]
        for offset, step in enumerate(steps):
            self._detail(tracker, step, now - timedelta(hours=len(steps) - offset))
        self.account.trackers[tracker_id] = tracker
        self._event("tracker.created", tracker, {})
        return tracker

    def _detail(self, tracker: Doc, status: str, moment: datetime) -> None:
        message, detail, city, state, zip_code = DETAILS[status]
        tracker["tracking_details"].append(
            {
                "object": "TrackingDetail",
                "message": message,
                "description": message,
                "status": status,
                "status_detail": detail,
                "datetime": self.state.stamp(moment),
                "source": tracker["carrier"],
                "carrier_code": None,
                "tracking_location": {
                    "object": "TrackingLocation",
                    "city": city,
                    "state": state,
                    "country": "US",
                    "zip": zip_code,
                },
                "est_delivery_date": None,
            }
        )
        tracker["status"] = status
        tracker["status_detail"] = detail
        tracker["finalized"] = status in ("delivered", "return_to_sender", "failure")
        if status == "delivered":
            tracker["signed_by"] = "J. DOE"

    def tracker(self, tracker_id: str) -> Doc:
        found = self.account.trackers.get(tracker_id)
        if found is None:
            raise not_found()
        return found

    def trackers(self, query: Doc) -> list[Doc]:
        """The trackers, oldest first, filtered by ``tracking_code`` (or a list of
        ``tracking_codes``) and ``carrier``."""
        found = list(self.account.trackers.values())
        for name in ("tracking_code", "carrier"):
            if query.get(name):
                found = [t for t in found if t[name] == query[name]]
        codes = query.get("tracking_codes")
        if isinstance(codes, list) and codes:
            found = [t for t in found if t["tracking_code"] in codes]
        return found

    def advance(self, tracker_id: str, to: str | None = None) -> Doc:
        """Move a tracker one step along pre_transit → … → delivered (or to ``to``) and
        raise ``tracker.updated``."""
        tracker = self.tracker(tracker_id)
        old = tracker["status"]
        if to is None:
            if tracker["finalized"]:  # delivered, returned or failed: nothing comes next
                return tracker
            to = LADDER[LADDER.index(old) + 1] if old in LADDER else LADDER[0]
        if to not in DETAILS:
            raise ValueError(f"a tracker cannot move to {to!r}")
        self._detail(tracker, to, self.state.clock())
        tracker["updated_at"] = self.state.stamp()
        shipment = self.account.shipments.get(tracker["shipment_id"] or "")
        if shipment is not None:
            shipment["status"] = to
            shipment["tracker"] = tracker
        self._event("tracker.updated", tracker, {"status": old})
        return tracker

    # --- webhooks and events --------------------------------------------------------

    def create_webhook(self, body: Doc) -> Doc:
        given = body.get("webhook")
        if not isinstance(given, dict) or not given.get("url"):
            raise required("webhook.url")
        url = str(given["url"])
        if "://" not in url:
            url = "http://" + url
        headers = given.get("custom_headers") or []
        hook: Doc = {
            "id": new_id("hook"),
            "object": "Webhook",
            "mode": self.mode,
            "url": url,
            "created_at": self.state.stamp(),
            "disabled_at": None,
            "custom_headers": [
                {"name": str(h.get("name")), "value": str(h.get("value"))}
                for h in headers
                if isinstance(h, dict)
            ],
        }
        self.account.webhooks[hook["id"]] = hook
        if given.get("webhook_secret"):
            self.account.secrets[hook["id"]] = str(given["webhook_secret"])
        return hook

    def webhook(self, hook_id: str) -> Doc:
        found = self.account.webhooks.get(hook_id)
        if found is None:
            raise not_found()
        return found

    def update_webhook(self, hook_id: str, body: Doc) -> Doc:
        hook = self.webhook(hook_id)
        wrapped = body.get("webhook")
        given: Doc = wrapped if isinstance(wrapped, dict) else body
        if given.get("webhook_secret"):
            self.account.secrets[hook_id] = str(given["webhook_secret"])
        if isinstance(given.get("custom_headers"), list):
            hook["custom_headers"] = [
                {"name": str(h.get("name")), "value": str(h.get("value"))}
                for h in given["custom_headers"]
                if isinstance(h, dict)
            ]
        return hook

    def delete_webhook(self, hook_id: str) -> None:
        self.webhook(hook_id)
        del self.account.webhooks[hook_id]
        self.account.secrets.pop(hook_id, None)

    def _event(self, description: str, result: Doc, previous: Doc) -> None:
        now = self.state.clock()
        stamp = (
            now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        )
        urls = [h["url"] for h in self.account.webhooks.values() if h["disabled_at"] is None]
        event: Doc = {
            "description": description,
            "mode": self.mode,
            "previous_attributes": previous,
            "created_at": stamp,
            "pending_urls": urls,
            "completed_urls": [],
            "updated_at": stamp,
            "id": new_id("evt"),
            "user_id": self.account.user_id,
            "status": "pending",
            "object": "Event",
        }
        self.account.events[event["id"]] = event
        self.events.append(Event(self.account.key, event | {"result": _copy(result)}))

    def event(self, event_id: str) -> Doc:
        found = self.account.events.get(event_id)
        if found is None:
            raise not_found()
        return found


def _copy(doc: Doc) -> Doc:
    """A snapshot, so a later change does not alter an Event already raised."""
    return copy.deepcopy(doc)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _fee(kind: str, amount: Decimal) -> Doc:
    return {
        "object": "Fee",
        "type": kind,
        "amount": str(amount.quantize(Decimal("0.00001"), ROUND_HALF_UP)),
        "charged": True,
        "refunded": False,
    }


def _insured(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        insured = Decimal(str(value))
    except ArithmeticError:
        raise _invalid("insurance", "must be a number") from None
    if not insured.is_finite() or insured < 0:
        raise _invalid("insurance", "must be 0 or more")
    return insured


def _invalid(name: str, message: str) -> EasyPostError:
    return EasyPostError(
        422, "PARAMETER.INVALID", "Invalid parameter.", [{"field": name, "message": message}]
    )
