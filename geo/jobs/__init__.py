"""Background work on the PostgreSQL job queue (procrastinate): the tasks and the worker.
Uses the capabilities below it (planning, tracking); nothing below imports it."""
