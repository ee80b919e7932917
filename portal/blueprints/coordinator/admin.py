"""Supervisor screens: assignment, directories, staff, policies, holiday calendar."""
