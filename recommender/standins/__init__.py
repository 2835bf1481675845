"""Local stand-ins for the web services the tool talks to (tests, ``--demo``, offline trial).

One module per service: ``spotify`` (Web API + accounts), ``musicbrainz``, ``listenbrainz``
(+ labs). They are real HTTP servers on 127.0.0.1 speaking each service's contract, started
and stopped one way (``server.ServedStandIn``). They ship with the package because the
demo needs them, but nothing in the product imports them except the demo and ``recommend
standin``. Importing this package does no work.
"""
