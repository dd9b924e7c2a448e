"""The Bogotá demo: a seeded portfolio, weeks of history, a day simulated through the phone's
own paths. Presentation: may use everything below it; only the CLI imports it.
"""
