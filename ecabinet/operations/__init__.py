"""Operating the app: backup and restore of the database with the document store (and metrics).

Above every domain (it reads their tables by name, as a database tool would) and below the CLI, whose
commands are thin wrappers around ``backup.make_backup`` and ``backup.restore_backup``.
"""
