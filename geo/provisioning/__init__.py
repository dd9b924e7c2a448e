"""Setting a tenant up: creating it with its defaults (settings, default questionnaire) and
changing its typed settings. Uses the capability packages; presentation uses it.
"""
