"""Foundations: environment and typed tenant settings, sessions bound to a tenant, the model,
domain errors, logging, health. Uses nothing else in campo; everything may use it.
"""
