"""VoltMart support bot: knowledge base, routing, shop backend, handoff and web gateway."""
