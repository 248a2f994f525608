"""Visitors and the gate: visits and passes, plates, gate decisions, guards' reviews."""
