"""The audit viewer for auditors: filter, read, export and verify the audit log."""
