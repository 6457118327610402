"""E-mail: Indonesian templates, the outbox (``mail.send``) and SMTP delivery (``MailDelivery``)."""

from .delivery import DeliveryReport, MailDelivery, SmtpConfig
from .errors import MailError, UnknownTemplate
from .outbox import Outbox
from .render import TEMPLATES, MailRenderer

__all__ = [
    "TEMPLATES",
    "DeliveryReport",
    "MailDelivery",
    "MailError",
    "MailRenderer",
    "Outbox",
    "SmtpConfig",
    "UnknownTemplate",
]
