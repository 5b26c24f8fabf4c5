"""Process topologies (which programs run, on which ports) and the configs that run them."""
