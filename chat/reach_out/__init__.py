"""Message customer: an agent reaches a client who has left, from a closed
chat or a ticket, and a new chat starts with the agent already in it.

- ``targets``: who is reached (only the client of that chat or ticket, never
  anyone else) and on which channels: WhatsApp (a template only, outside the
  24-hour window), SMS, or email with a link to the portal (the ticket's
  page, or the portal's home for a chat without a ticket), the channel of
  the client's last chat first;
- ``services``: the options as the dialog shows them, and reaching out:
  the chat started (lifecycle.start, active), the first message sent on the
  chosen channel (a provider's send task, or the email of chat.reach_email);
- ``emails``: by email, what the agents write after the first message,
  while the client has not joined, emailed in batches (the beat sweep).
"""
