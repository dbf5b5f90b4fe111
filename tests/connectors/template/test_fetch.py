"""``inbound_webhooks.<name>.fetch``: a thin delivery that only says where the shipments
are. The template must name a pull that builds shipments; the URL a delivery gives is
read only on the API's own host and port, or on a host the template names, over https
unless the API is plain http — otherwise nothing is sent with the plugin's credentials."""

from __future__ import annotations

import pytest

from tradewind.connectors.template import TemplateInvalid, load_template
from tradewind.connectors.template.connector import refused_fetch

TEMPLATE = """\
schema: tradewind-template/v1
id: shipper
version: 1.0.0
display_name: Shipper
category: shipping
capabilities: [receive_webhooks]
environments:
  live: {{base_url: "https://api.shipper.example"}}
settings:
  webhook_token: {{type: string, secret: true}}
auth: {{kind: none}}
test_connection:
  request: {{path: /me}}
pulls:
  shipments:
    request: {{path: /shipments}}
    records: body.shipments
    map: '{{"external_id": record.id, "order_ref": record.key}}'
    returns: {returns}
inbound_webhooks:
  shipped:
    verify: {{kind: url_token, secret: webhook_token}}
    subject: {subject}
    subject_id: body.resource_url
{fetch}
"""
FETCH = """\
    fetch:
      url: body.resource_url
      pull: {pull}
      hosts: [{hosts}]
"""


def _template(
    *,
    returns: str = "Shipment",
    subject: str = "shipment",
    pull: str = "shipments",
    hosts: str = '"*.shipper.example"',
    fetch: bool = True,
) -> str:
    block = FETCH.format(pull=pull, hosts=hosts) if fetch else ""
    return TEMPLATE.format(returns=returns, subject=subject, fetch=block)


def _problems(text: str) -> str:
    with pytest.raises(TemplateInvalid) as refused:
        load_template(text)
    return "\n".join(str(problem) for problem in refused.value.problems)


def test_a_good_fetch_loads() -> None:
    template = load_template(_template())
    fetch = template.inbound_webhooks["shipped"].fetch
    assert fetch is not None and fetch.pull == "shipments"


def test_a_shipment_delivery_needs_a_fetch() -> None:
    assert "needs `fetch`" in _problems(_template(fetch=False))


def test_a_fetch_goes_only_with_shipments() -> None:
    assert "goes with `subject: shipment`" in _problems(_template(subject="order"))


def test_the_fetch_names_a_pull_that_builds_shipments() -> None:
    assert "unknown pull 'shipment' (did you mean 'shipments'?)" in _problems(
        _template(pull="shipment")
    )
    assert "must return Shipment" in _problems(_template(returns="Order"))


def test_a_host_that_is_no_host_name_is_refused() -> None:
    assert "is not a host name" in _problems(_template(hosts='"http://x/"'))


@pytest.mark.parametrize(
    ("url", "base", "hosts", "refused"),
    [
        ("https://api.s.example/shipments?batchId=1", "https://api.s.example", [], ""),
        ("https://ssapi6.s.example/shipments", "https://api.s.example", ["*.s.example"], ""),
        ("https://s.example.evil/shipments", "https://api.s.example", ["*.s.example"], "host"),
        ("https://evils.example/shipments", "https://api.s.example", ["*.s.example"], "host"),
        ("http://api.s.example/shipments", "https://api.s.example", [], "https is needed"),
        ("https://api.s.example:8443/x", "https://api.s.example", [], "host"),
        ("http://127.0.0.1:9/x", "http://127.0.0.1:8/", [], "host"),
        ("http://127.0.0.1:8/x", "http://127.0.0.1:8/", [], ""),
        ("file:///etc/passwd", "https://api.s.example", [], "https is needed"),
        ("https://169.254.169.254/latest", "https://api.s.example", [], "host"),
    ],
)
def test_where_a_delivery_may_point(url: str, base: str, hosts: list[str], refused: str) -> None:
    said = refused_fetch(url, base, hosts)
    assert (refused in said) if refused else said == ""
