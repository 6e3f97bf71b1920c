"""Pure layout builders: spec and data in, Dash component trees out."""
