"""The creditor's portfolio: cases, debtors, addresses (Colombian nomenclature), CSV imports,
payments, priority and area zones. Uses core and accounts.
"""
