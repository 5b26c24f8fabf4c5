"""Conversations, handoffs to human agents, and their context."""
