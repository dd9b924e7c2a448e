"""campo's HTTP API: thin routers over ``geo``."""
