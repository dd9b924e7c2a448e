"""The dispatcher's day as the console shows it: every agent's state today, the feed of
check-ins and outcomes, and the review of doubtful check-ins with its audited decisions."""
