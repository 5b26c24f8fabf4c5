"""The channel layer: customers write through the widget, Telegram or email, into one message log.

Inbound: a channel turns what it received into ``InboundMessage``s; ``ChannelInbound`` stores each
in the message log first (once: a receipt per channel message id), then relays it to Rasa once.
Outbound: every reply stored in a conversation of another channel than the widget gets an
``OutboundDelivery`` row in the same transaction; ``OutboundDispatcher`` sends it through the
conversation's channel and retries until it is sent. Adding a channel is one module here
(``bot/channels/<name>``, with ``build(settings)``) and its name in ``channels:`` of settings.yml.
See docs/channels.md.
"""
