"""SMS and WhatsApp: the providers behind one interface (``providers/``) and
the delivery of what goes out to a phone (``delivery``). What comes in is
chat.inbound's."""
