"""Key hierarchy, envelope encryption and blind indexes. Only the access layer opens sealed data."""
