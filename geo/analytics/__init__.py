"""What the history says: analytics views as frames, KPIs, contact hours, suggested windows,
analysts' logins. Uses core up to visits; never routing or presentation.
"""
