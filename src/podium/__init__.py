"""Podium: an open-source orchestrator for software robots that speaks the UiPath Orchestrator API."""

__version__ = "0.1.0"
