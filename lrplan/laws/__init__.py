"""Loss-curve laws (placeholder while the package is being built)."""
