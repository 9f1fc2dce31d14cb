"""Socket limits as a browser meets them through a real daphne (autobahn),
which the in-process consumer tests cannot show."""

from __future__ import annotations

import pytest
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from presence.models import AgentConnection
from tests.factories import AgentFactory
from tests.integration.conftest import WS_MAX_FRAME_BYTES, wait_until
from tests.integration.test_presence_expiry import open_socket


def test_oversize_frame_is_refused_with_4009_and_the_socket_cleaned_up(stack_factory) -> None:
    stack = stack_factory()
    agent = AgentFactory()
    with open_socket(stack, agent) as ws:
        assert AgentConnection.objects.filter(user=agent).count() == 1
        ws.send('{"type":"ping","pad":"' + "x" * (WS_MAX_FRAME_BYTES + 1000) + '"}')
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(10):
                ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4009
    # The consumer's disconnect ran: no stale connection row left behind.
    wait_until(
        lambda: not AgentConnection.objects.filter(user=agent).exists(),
        timeout=10,
        what="the connection row to go",
    )
    stack.check_alive()


def test_a_page_on_another_port_of_the_host_gets_403(stack_factory) -> None:
    stack = stack_factory()
    agent = AgentFactory()
    client = Client()
    client.force_login(agent)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    # A page of http://127.0.0.1:<another port> whose visitor is logged in here.
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(
            stack.ws_url,
            origin=f"http://127.0.0.1:{stack.port + 1}",  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie},
            open_timeout=10,
        ),
    ):
        pass
    assert refused.value.response.status_code == 403
    assert not AgentConnection.objects.filter(user=agent).exists()
    # The site's own page, with the same cookie, gets its socket.
    with open_socket(stack, agent):
        pass
    stack.check_alive()
