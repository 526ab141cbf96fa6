"""Section 7: the distributed cache's DynamoDB calls and units, and HybridCache's local tier."""
