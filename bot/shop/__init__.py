"""The shop backend: customers, orders, returns and password resets."""
