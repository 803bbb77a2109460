"""Package data: JSON schemas of the maker's file formats."""
