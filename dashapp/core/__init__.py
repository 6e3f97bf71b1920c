"""The ground: dashboard spec, time ranges, results and wire formats.

Imports nothing of the project: everything else builds on it.
"""
