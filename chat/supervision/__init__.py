"""The supervisor console: watching live chats (watch), staff-only comments
with @mentions (comments), the reads behind its tabs and live numbers
(selectors), and its pages (views)."""
