"""Smart Pick shared runtime."""
