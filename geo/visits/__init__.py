"""What happens at the door: geofences, check-in verification, questionnaires, outcomes, the
completion e-mail, offline sync, the day bundle. Uses core up to tracking.
"""
