"""Business rules as plain Python: no request, no templates (STYLE.md "Layers")."""
