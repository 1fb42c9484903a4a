"""Checks against the live, gunicorn-served project; run by .ci/run (see the Makefile)."""
