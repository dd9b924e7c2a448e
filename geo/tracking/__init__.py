"""Where agents are: GPS from the app and tracker apps, partitioned storage, live positions
and cleaned trails. Uses core, accounts and portfolio.
"""
