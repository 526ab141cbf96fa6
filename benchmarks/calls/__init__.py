"""Sections 1 and 2: DynamoDB calls and capacity units per request, against the fewest possible."""
