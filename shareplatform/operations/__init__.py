"""The operator's housekeeping and backups, run from the command line (shareplatform/cli.py).

Not a feature: no pages and no `register`. It reads the accounts feature's tables and the
platform's configuration, and writes only through their services and the audit log.
"""
