"""What the sections share: apps, ASGI driver, servers, DynamoDB call counting, callgrind, report helpers."""
