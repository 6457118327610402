"""DNS provisioning: providers (``zonefile``, ``rfc2136``) behind one interface, and the
``dns.create`` / ``dns.change`` / ``dns.delete`` handlers. See :mod:`handlers.dns.base`."""
