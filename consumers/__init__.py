"""Alert subscribers: the Alertmanager forwarder, the webhook forwarder and `alerts tail`."""
