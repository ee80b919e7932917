"""The portal as deployed (`wsgi:app`) plus the floor pages under /_floor/ — what the benchmarks serve."""

from portal import create_app

from . import floor

app = create_app()
floor.attach(app)
