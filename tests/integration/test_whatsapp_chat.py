"""A WhatsApp chat across the real processes: an inbound message POSTed to
daphne's HTTP, signed as Meta signs it, becomes a request that reaches an
agent's socket; the agent joins and answers, and the Celery worker sends the
reply to the WhatsApp Cloud API (a pytest-httpserver fake); its delivery
report comes back through the webhook to the agent's socket."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import urllib.request
from typing import Any

from pytest_httpserver import HTTPServer

from tests.integration.conftest import ChatPeer, Stack, session_cookie, until, wait_until
from tests.personas import AGENT1

SECRET = "it-app-secret"
PHONE_ID = "5550001"
SETTINGS = {
    "SWITCHBOARD_CELERY_EAGER": "0",  # the worker sends, not daphne
    "SWITCHBOARD_WHATSAPP_TOKEN": "it-token",
    "SWITCHBOARD_WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
    "SWITCHBOARD_WHATSAPP_APP_SECRET": SECRET,
    "SWITCHBOARD_WHATSAPP_VERIFY_TOKEN": "it-verify",
}


def post_webhook(stack: Stack, payload: dict[str, Any]) -> int:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{stack.origin}/channels/whatsapp/",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with direct.open(request, timeout=10) as response:
        return int(response.status)


def webhook(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "W", "changes": [{"field": "messages", "value": value}]}],
    }


async def scenario(stack: Stack, cookie: str, provider: HTTPServer) -> dict[str, Any]:
    agent = await ChatPeer("agent", stack.ws_url, stack.origin, cookie).start()
    try:
        reply = await agent.request({"type": "presence.set", "status": "available"})
        assert reply["status"] == "available", reply
        inbound = webhook(
            {
                "contacts": [{"profile": {"name": "Jane Doe"}, "wa_id": "447700900123"}],
                "messages": [
                    {
                        "from": "447700900123",
                        "id": "wamid.it1",
                        "timestamp": "1",
                        "type": "text",
                        "text": {"body": "Is the VPN down?"},
                    }
                ],
            }
        )
        assert await asyncio.to_thread(post_webhook, stack, inbound) == 200
        incoming = await until(
            lambda: agent.frames_of("chat.incoming"), timeout=15, what="the request at the agent"
        )
        session = incoming[0]["session"]
        assert session["channel"] == "whatsapp" and session["client"]["name"] == "Jane Doe"

        joined = await agent.request({"type": "chat.join", "session_id": session["id"]})
        agent.open_chat(joined)
        assert "Is the VPN down?" in [m["body"] for m in agent.ordered()]
        client_id = agent.send("Not that we know of: which office are you in?")
        await until(lambda: agent.seq_of(client_id), timeout=10, what="the reply's ack")
        seq = agent.seq_of(client_id)

        await until(
            lambda: agent.frames_of("chat.delivery", seq=seq),
            timeout=20,
            what="the worker to send the reply (chat.delivery sent)",
        )
        status = webhook(
            {
                "statuses": [
                    {
                        "id": "wamid.out1",
                        "status": "read",
                        "timestamp": "2",
                        "recipient_id": "447700900123",
                    }
                ]
            }
        )
        assert await asyncio.to_thread(post_webhook, stack, status) == 200
        await until(
            lambda: [
                f
                for f in agent.frames_of("chat.delivery", seq=seq)
                if f["delivery"]["status"] == "read"
            ],
            timeout=10,
            what="the read report at the agent",
        )
        return {"session": session, "deliveries": agent.frames_of("chat.delivery", seq=seq)}
    finally:
        await agent.stop()


def test_an_inbound_whatsapp_message_reaches_the_agent_and_the_reply_the_provider(
    stack_factory, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(f"/graph/{PHONE_ID}/messages", method="POST").respond_with_json(
        {"messaging_product": "whatsapp", "messages": [{"id": "wamid.out1"}]}
    )
    stack = stack_factory(SWITCHBOARD_WHATSAPP_API_BASE=httpserver.url_for("/graph"), **SETTINGS)
    agent = AGENT1.create()

    result = asyncio.run(asyncio.wait_for(scenario(stack, session_cookie(agent), httpserver), 60))
    stack.check_alive()

    ((request, _),) = wait_until(lambda: httpserver.log, timeout=5, what="the provider call")
    assert request.headers["Authorization"] == "Bearer it-token"
    assert request.json == {
        "messaging_product": "whatsapp",
        "to": "447700900123",
        "type": "text",
        "text": {"body": "Not that we know of: which office are you in?"},
    }
    assert [f["delivery"]["status"] for f in result["deliveries"]] == ["sent", "read"]
