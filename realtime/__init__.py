"""The socket platform: the one ``/ws/`` consumer, the frame registry, the
broadcast-on-commit outbox and the socket login re-check. It imports no other
app of ours; apps plug in through ``realtime.registry``."""
