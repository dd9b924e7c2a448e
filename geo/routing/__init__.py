"""Who goes where, in which order: street networks, travel matrices, the PyVRP solver, its
feasibility check, the planner, plan jobs, territories. Uses core up to analytics.
"""
