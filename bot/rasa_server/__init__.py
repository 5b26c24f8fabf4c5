"""The Rasa server, with throughput fixes for Rasa 3.6 that change no behaviour."""
