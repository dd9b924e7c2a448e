"""The field kit: what the agents' phone apps run and send (ODK Collect's forms and the day's
cases they read, OpenRosa submissions made visits)."""
