"""What SMS and WhatsApp clients send: the providers' webhooks
(``webhooks``), who is writing and into which chat (``receive``), and the
files they send, fetched by a Celery task (``media``)."""
