"""Models arrive with this workflow's issue."""
