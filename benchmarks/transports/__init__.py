"""Section 6: what each DynamoDB transport costs the client, beside a floor client and redis-py."""
