"""Policy test harness: run conformance scenario files through the real engines."""
