"""The notifier: live changes over a WebSocket (`GET /ws`, its own port, default 8081).

One JetStream consumer per process reads ATTUNE_EVENTS from the live end; each event is
mapped once to the original's notification envelope (`mapping`), then fanned out to the
connections whose filters it matches (`hub`), each through its own bounded queue
(`connection`). A client that was away asks for `since: <seq>` and gets what it missed
read back from the stream (`replay`). See README.md for the protocol.
"""
