"""Socket.IO and minutes: what clients receive (minutes take no inbound socket events).

Writes go through REST (they carry PDFs, passphrases and PINs, which never travel
over the socket). Clients receive:

- ``minutes.progress`` — private, to the requesting user's devices only
  (``eventlog.notify``): ``{"minutes_id", "stage", "percent"}`` with stage
  ``composing`` / ``signing`` → ``storing`` → ``done`` while a compose or a
  signature runs in its child process.
- ``event`` of type ``minutes.status`` — in the meeting's event log (with a
  ``seq``): ``{"minutes_id", "version", "status"}`` on create, finalize, each
  signature, publish and correction.
"""
