"""Gateway: the only public HTTP surface of Smart Pick."""
