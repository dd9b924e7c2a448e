"""The contact ledger and the collections law (Ley 2300 de 2023): who was contacted, when and
how, what each debtor authorised, and whether a contact would break the law's rules."""
