"""Running past one machine: evaluation units placed and retried by Ray."""
