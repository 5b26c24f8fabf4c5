"""The message log: store, read and publish conversation messages; relay them to Rasa."""
