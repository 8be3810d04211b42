"""Notifications: what the server sends on its own, before and around a sitting.

Every message is an outbox row written in the transaction of the change that caused it
(``outbox.py``); a task of the job queue delivers it once that transaction has committed
(``delivery.py``) through its channel (``channels/``: e-mail, SMS gateway, Web Push).
Invitations, replies, reminders and alerts are built on the outbox by their own modules.
"""
