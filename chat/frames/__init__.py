"""Chat's frames of the /ws/ socket, registered with realtime.registry when
its autodiscovery imports this package. Each handler is thin: the registry
validated the fields, the handler calls one service or selector in a worker
thread and answers with what the browser needs; access is checked in the
services on every frame."""

from chat.frames import (  # noqa: F401
    agent_tools,
    chats,
    heartbeat,
    queues,
    reach_out,
    supervision,
    transfers,
    visitors,
    whatsapp_templates,
)
