"""Package data: the small example task file."""
