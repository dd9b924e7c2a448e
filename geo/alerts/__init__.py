"""Supervisors' alerts: rules over live positions, check-ins, promises and payments, each
raised once per occurrence and resolved when it ends. Uses core … visits."""
