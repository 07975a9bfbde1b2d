"""Bundled data of obspy_hyposvi, installed as ``obspy_hyposvi.data`` (see README.md here)."""
