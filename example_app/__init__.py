"""dynsession's example app."""
