"""The channels a message leaves by: e-mail (SMTP), SMS (an HTTP gateway), Web Push.

Each channel module has ``configured(config) -> bool`` and ``send(message, config)``. A
send either returns (the far side accepted the message) or raises one of the errors of ``errors.py``,
which tell the delivery task what to do next.
"""
