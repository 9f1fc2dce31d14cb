"""The agent's tools in a chat window: invite another agent, transfer or
assign the chat, block its client, greeting/farewell templates, Copy chat log
and a time entry on the chat's ticket. Each module follows chat.services:
one transaction, the session locked, the kernel (chat.lifecycle,
chat.messages) for every change, broadcasts after commit."""
