"""Hostile frames on /ws/: whatever a client sends, it gets a clear error code
(with its ref when the ref can be read), the socket stays open, and the server
logs nothing at ERROR. Fed to the frame parser and, end to end, to the consumer."""

from __future__ import annotations

import logging

import pytest
from asgiref.sync import sync_to_async

from realtime import registry
from tests.factories import AgentFactory
from tests.realtime.conftest import receive_type, send

# Under SWITCHBOARD_WS_MAX_FRAME_BYTES (64 KiB), so the parser is what meets them.
DEEP = 30_000
NESTED = "[" * DEEP + "]" * DEEP

# (frame text, the ref the error must carry). All are refused as bad_json.
UNDECODABLE: list[tuple[str, str | int | None]] = [
    ("", None),
    ("   ", None),
    ("{not json", None),
    ("[" * 60_000, None),
    ('{"a":' * 12_000, None),
    ('{"type":"chat.send","ref":"r1","body":{"a":' + NESTED + "}}", "r1"),
    # The ref after the nested value, and a number ref.
    ('{"type":"chat.send","body":{"a":' + NESTED + '},"ref":"r2"}', "r2"),
    ('{"ref":7,"type":"ping","x":' + NESTED + "}", 7),
    # A "ref" inside a nested object is not the frame's.
    ('{"type":"ping","x":{"ref":"inner","y":' + NESTED + "}}", None),
    ('{"type":"ping","x":"{\\"ref\\":\\"in-a-string\\"}","y":' + NESTED + "}", None),
    # Cut off: the ref before the cut is still read.
    ('{"type":"ping","ref":"r3",', "r3"),
    # An unterminated string of escaped quotes: the ref scan stays linear.
    ('{"ref":"r4","x":"' + '\\"' * 30_000, "r4"),
    ('{"x":"' + '\\"' * 30_000 + ',\\"ref\\":\\"in-the-string\\"', None),
    # Numbers JSON cannot carry, or Python refuses to read.
    ('{"type":"ping","ref":"r5","x":1e999999}', "r5"),
    ('{"type":"ping","ref":"r6","x":-1e999999}', "r6"),
    ('{"type":"ping","ref":"r7","x":' + "9" * 5000 + "}", "r7"),
    ('{"type":"ping","ref":"r8","x":NaN}', "r8"),
    ('{"type":"ping","ref":"r9","x":Infinity}', "r9"),
    ('{"type":"ping","ref":"r10","x":-Infinity}', "r10"),
    ('{"type":"ping","ref":NaN}', None),
    ('{"type":"ping","ref":' + "9" * 5000 + "}", None),
    # A key given twice: which one counts would depend on the parser.
    ('{"type":"ping","ref":"r11","type":"presence.snapshot"}', "r11"),
    ('{"type":"presence.set","status":"available","status":"away","ref":"r12"}', "r12"),
    ('{"type":"ping","ref":"r13","x":{"a":1,"a":2}}', "r13"),
    ('{"type":"ping","ref":"r14","ref":"r15"}', None),
    # Null bytes outside strings, and raw control characters inside one.
    ('{"type":"ping","ref":"r16"}\x00', "r16"),
    ('\x00{"type":"ping","ref":"r17"}', None),
    ('{"type":"ping","ref":"r18\x00"}', None),
    # Two frames in one.
    ('{"type":"ping","ref":"r19"}{"type":"ping","ref":"r20"}', "r19"),
    # The ref is looked for in the first frame_json.SCAN_TOKENS tokens only.
    ('{"x":[' + "[]," * 3000 + '],"ref":"too-far"', None),
]


# (frame, error code, ref) for frames that decode but are not acceptable frames.
REFUSED: list[tuple[str | bytes, str, str | int | None]] = [
    *((text, "bad_json", ref) for text, ref in UNDECODABLE),
    (b'{"type":"ping","ref":"r1"}', "bad_frame", None),
    (b"\x00\xff" * 100, "bad_frame", None),
    ('[{"type":"ping","ref":"r1"}]', "bad_frame", None),
    ('"ping"', "bad_frame", None),
    ("null", "bad_frame", None),
    ("12", "bad_frame", None),
    ('{"ref":"r1"}', "bad_frame", "r1"),
    ('{"type":null,"ref":"r1"}', "bad_frame", "r1"),
    ('{"type":["ping"],"ref":"r1"}', "bad_frame", "r1"),
    ('{"type":{"ping":1},"ref":2}', "bad_frame", 2),
    ('{"type":"","ref":"r1"}', "bad_frame", "r1"),
    ('{"type":"no.such.frame","ref":"r1"}', "unknown_type", "r1"),
    ('{"type":"ping\\u0000","ref":"r1"}', "unknown_type", "r1"),
    ('{"type":"\\ud800","ref":"r1"}', "unknown_type", "r1"),
    ('{"type":"' + "x" * 60_000 + '","ref":"r1"}', "unknown_type", "r1"),
    # Refs that cannot be echoed: the error carries none.
    ('{"type":"ping","ref":true}', "invalid", None),
    ('{"type":"ping","ref":null}', "invalid", None),
    ('{"type":"ping","ref":""}', "invalid", None),
    ('{"type":"ping","ref":"' + "x" * 65 + '"}', "invalid", None),
    ('{"type":"ping","ref":1.5}', "invalid", None),
    ('{"type":"ping","ref":["r1"]}', "invalid", None),
    # Beyond what a browser's JSON.parse reads exactly (2**53 - 1).
    ('{"type":"ping","ref":9007199254740992}', "invalid", None),
    ('{"type":"ping","ref":-9007199254740992}', "invalid", None),
    ('{"type":"ping","ref":' + "9" * 4000 + "}", "invalid", None),
    ('{"type":"presence.set","status":"away\\u0000","ref":"r1"}', "invalid", "r1"),
    ('{"type":"presence.set","status":"\\ud800","ref":"r1"}', "invalid", "r1"),
    ('{"type":"presence.set","status":["away"],"ref":"r1"}', "invalid", "r1"),
    ('{"type":"presence.set","status":"away","__proto__":{},"ref":"r1"}', "invalid", "r1"),
    # Nested, but not too deeply for the parser: no field takes it.
    ('{"type":"ping","ref":"r1","x":' + "[" * 500 + "]" * 500 + "}", "invalid", "r1"),
    ('{"type":"presence.set","status":' + "[" * 500 + "]" * 500 + ',"ref":"r1"}', "invalid", "r1"),
]


def _id(case: tuple[object, ...]) -> str:
    text = repr(case[0])
    return text if len(text) <= 60 else f"{text[:40]}...({len(text)} chars)"


def assert_nothing_logged_at_error(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not loud, [f"{r.name}: {r.getMessage()[:200]}" for r in loud]


# The parser alone also meets texts larger than a frame may be.
PARSED = [*UNDECODABLE, ("[" * 100_000, None), ('{"ref":"r1","x":' + "[" * 100_000, "r1")]


@pytest.mark.parametrize(("text", "ref"), PARSED, ids=[_id(c) for c in PARSED])
def test_the_parser_refuses_undecodable_text_as_bad_json(
    text: str, ref: str | int | None, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(registry.FrameError) as refused:
        registry.parse(text)
    assert refused.value.code == "bad_json"
    assert refused.value.message.startswith("The frame is not valid JSON")
    assert refused.value.ref == ref
    assert_nothing_logged_at_error(caplog)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("raw", "code", "ref"), REFUSED, ids=[_id(c) for c in REFUSED])
async def test_a_hostile_frame_gets_a_clear_error_and_logs_nothing_at_error(
    connect, caplog: pytest.LogCaptureFixture, raw: str | bytes, code: str, ref: str | int | None
) -> None:
    agent = await sync_to_async(AgentFactory)()
    communicator = await connect(agent)
    caplog.set_level(logging.INFO)
    # As daphne hands a frame over (send_to refuses an empty one).
    payload = {"bytes": raw} if isinstance(raw, bytes) else {"text": raw}
    await communicator.send_input({"type": "websocket.receive", **payload})
    error = await receive_type(communicator, "error")
    assert error["code"] == code, error
    assert error["message"]
    assert error.get("ref") == ref, error
    # The socket is still there for the next frame.
    await send(communicator, {"type": "ping", "ref": "after"})
    pong = await receive_type(communicator, "pong")
    assert (pong["type"], pong["ref"]) == ("pong", "after"), pong
    assert_nothing_logged_at_error(caplog)
