"""Rasa as the gateway and the channels reach it: the HTTP client (webhook, tracker, warm-up)."""
