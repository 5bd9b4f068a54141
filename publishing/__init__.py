"""Publishing the public bundle to a VPS (issue #6 builds it)."""
