"""Plugin URLs and the outbound address policy, through every face: the API and the CLI
refuse a settings URL that reaches a non-public address however it is spelled, and a
plugin whose stored URL became non-public never reaches it (nor repeats its reply)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from typer.testing import CliRunner

from tests.api.conftest import Api
from tests.api.test_resources import problem_of
from tests.connectors.listener import Listener, Reply
from tests.fakeplatform import TOKEN
from tradewind.cli import app as cli
from tradewind.cli.common import CliState
from tradewind.hub import Hub

SPELLINGS = ["127.1", "0x7f.1", "2130706433", "10.1", "169.254.43518", "0xc0.0xa8.1.1", "[::1]"]


def names(host: str, port: int) -> Sequence[str]:
    table = {"loopback.example": ["127.0.0.1"], "shop.example": ["93.184.216.34"]}
    if host not in table:
        raise OSError(f"unknown name {host}")
    return table[host]


@pytest.fixture
def strict(hub: Hub) -> Hub:
    hub.settings = hub.settings.model_copy(update={"allow_sandbox_hosts": False})
    hub.resolver = names
    return hub


def fake(name: str, base_url: str) -> dict[str, object]:
    return {
        "connector": "fake",
        "name": name,
        "settings": {"shop": "abc", "api_token": TOKEN, "base_url": base_url},
    }


@pytest.mark.parametrize("host", [*SPELLINGS, "loopback.example"])
def test_the_api_refuses_a_url_reaching_a_non_public_address(
    api: Api, strict: Hub, host: str
) -> None:
    body = problem_of(api.post("/plugins", json=fake("p", f"http://{host}:8080/")), 422)
    assert body["errors"] == {"base_url": "private address"}
    created = api.post("/plugins", json=fake("q", "https://shop.example/"))
    assert created.status_code == 201, created.text
    changed = api.patch(
        f"/plugins/{created.json()['id']}", json={"settings": {"base_url": f"http://{host}/"}}
    )
    assert problem_of(changed, 422)["errors"] == {"base_url": "private address"}


def test_the_cli_refuses_it_too(strict: Hub) -> None:
    runner = CliRunner()
    state = CliState(hub_factory=lambda: strict)

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), obj=state)
        return result.exit_code, result.stdout + result.stderr

    code, said = run(
        "plugins", "add", "fake", "p", "--set", "shop=abc", "--set", f"api_token={TOKEN}",
        "--set", "base_url=http://0x7f.1:8080/",
    )  # fmt: skip
    assert code == 2 and "loopback" in said
    code, said = run(
        "plugins", "add", "fake", "p", "--set", "shop=abc", "--set", f"api_token={TOKEN}",
        "--set", "base_url=https://shop.example/",
    )  # fmt: skip
    assert code == 0, said
    code, said = run("plugins", "configure", "p", "--set", "base_url=http://loopback.example/")
    assert code == 2 and "127.0.0.1 is a loopback address" in said


def test_a_stored_url_that_became_private_is_never_reached_nor_echoed(api: Api, hub: Hub) -> None:
    with Listener(lambda _: Reply(status=500, body=b"listener-private-reply")) as listener:
        # Stored while sandbox hosts were allowed, then they are not.
        created = api.post("/plugins", json=fake("p", f"http://127.1:{listener.port}/"))
        assert created.status_code == 201, created.text
        hub.settings = hub.settings.model_copy(update={"allow_sandbox_hosts": False})
        answer = api.post(f"/plugins/{created.json()['id']}/test")
        assert listener.reached == []
    assert "listener-private-reply" not in answer.text
    assert "loopback" in answer.text
