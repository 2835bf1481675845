"""`recommend web`: a local web app to see, steer and publish the playlist.

- ``context.WebContext``: what each page shows and does, as plain methods over the product's
  own functions (``jobs.build_playlist``, ``jobs.evaluate``, ``explore``, ``moods``, ``status``),
  with a small cache so that pages answer fast.
- ``app.create_app``: the Starlette app (routes, token/session/CSRF checks, security headers).
- ``server.serve``: binds 127.0.0.1 only and runs uvicorn until Ctrl-C.

Nothing here runs at import time; Starlette, Jinja2 and uvicorn are imported by these modules,
which only ``recommend web`` imports (the extra ``web``).
"""
