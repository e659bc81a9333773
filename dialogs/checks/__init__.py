"""Rules of forms.md as named checks; each returns `list[Problem]` with catalogue codes."""
