"""A user's sessions through the store, outside any request: opaque handles, listing,
revocation, the per-user cap, ending a session wherever it moved, device labels."""
