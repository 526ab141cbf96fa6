"""One request's session, from the cookie to the store and back: the request state and the
helpers handlers call, loading (eager, lazy, eventually consistent), persistence with conflicts,
moves (renewal and login) and their markers, failure answers, store start-up, websockets."""
