"""What keeps a mock's acknowledged state across restarts: the state log and its images."""
