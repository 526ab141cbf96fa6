"""dynsession's example shop: ``python -m example_app`` serves it on 127.0.0.1:8000."""
