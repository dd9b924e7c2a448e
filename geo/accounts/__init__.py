"""Who may act: users, roles, passwords and signing in; field agents with their base, mode,
shift, capacity and skills. Uses core only.
"""
