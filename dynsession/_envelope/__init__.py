"""What protects a session ID and its data: the signed cookie, encryption at rest, client
binding."""
