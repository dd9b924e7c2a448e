"""The ``campo`` command line for tenant admins and operators.
Top of the stack: may use everything in geo; nothing in geo imports it.
"""
