"""Folium maps for dispatchers and notebooks: live agents, plans, trails, contact heat.
Presentation: may use every capability package; none of them imports it.
"""
