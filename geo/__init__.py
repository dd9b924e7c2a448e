"""campo's domain and spatial core: everything an API handler or a notebook needs, no web code."""
