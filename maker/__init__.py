"""maker package."""
