"""Customer-support bot for online shops: knowledge base, routing, shop backend, handoff and web gateway."""
