"""Files in a chat: the upload that becomes a ``file`` message (services), and
the access-checked download and preview (views)."""
