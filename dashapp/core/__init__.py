"""The ground: dashboard spec, time ranges, results and wire formats; imports nothing of the project."""
