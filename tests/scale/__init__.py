"""Scale and fault tolerance: the benchmark works, and nothing is lost when a part fails."""
