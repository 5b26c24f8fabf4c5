"""Process topology: which programs run, and the supervisord configuration that keeps them running."""
