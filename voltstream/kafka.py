"""Kafka client configuration (confluent-kafka, aiokafka, Faust) derived from `KafkaSettings`."""

import ssl
from typing import Any

from voltstream.errors import ConfigurationError
from voltstream.settings import KafkaSettings


def _require_bootstrap(settings: KafkaSettings) -> str:
    if not settings.bootstrap_servers:
        raise ConfigurationError("KAFKA_BOOTSTRAP_SERVERS is not set and no embedded broker runs")
    return settings.bootstrap_servers


def _security(settings: KafkaSettings) -> dict[str, Any]:
    conf: dict[str, Any] = {"security.protocol": settings.security_protocol}
    if settings.uses_ssl:
        if settings.ssl_cafile is not None:
            conf["ssl.ca.location"] = str(settings.ssl_cafile)
        if settings.ssl_certfile is not None:
            conf["ssl.certificate.location"] = str(settings.ssl_certfile)
        if settings.ssl_keyfile is not None:
            conf["ssl.key.location"] = str(settings.ssl_keyfile)
        if settings.ssl_key_password is not None:
            conf["ssl.key.password"] = settings.ssl_key_password.get_secret_value()
        conf["ssl.endpoint.identification.algorithm"] = (
            "https" if settings.ssl_check_hostname else "none"
        )
    if settings.uses_sasl:
        if settings.sasl_mechanism is None or settings.sasl_username is None:
            raise ConfigurationError("SASL needs KAFKA_SASL_MECHANISM and KAFKA_SASL_USERNAME")
        if settings.sasl_password is None:
            raise ConfigurationError("SASL needs KAFKA_SASL_PASSWORD")
        conf["sasl.mechanism"] = settings.sasl_mechanism
        conf["sasl.username"] = settings.sasl_username
        conf["sasl.password"] = settings.sasl_password.get_secret_value()
    return conf


def producer_config(settings: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """Return a confluent-kafka producer configuration (idempotent, batched, compressed)."""
    conf: dict[str, Any] = {
        "bootstrap.servers": _require_bootstrap(settings),
        "client.id": settings.client_id,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "lz4",
        **_security(settings),
    }
    conf.update(overrides)
    return conf


def consumer_config(settings: KafkaSettings, group_id: str, **overrides: Any) -> dict[str, Any]:
    """Return a confluent-kafka consumer configuration with manual offset commits."""
    conf: dict[str, Any] = {
        "bootstrap.servers": _require_bootstrap(settings),
        "client.id": settings.client_id,
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        **_security(settings),
    }
    conf.update(overrides)
    return conf


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    """Return the TLS context aiokafka and Faust use, or None for an unencrypted protocol."""
    if not settings.uses_ssl:
        return None
    context = ssl.create_default_context(
        cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None
    )
    context.check_hostname = settings.ssl_check_hostname
    if settings.ssl_certfile is not None:
        password = (
            settings.ssl_key_password.get_secret_value() if settings.ssl_key_password else None
        )
        context.load_cert_chain(
            str(settings.ssl_certfile),
            keyfile=str(settings.ssl_keyfile) if settings.ssl_keyfile else None,
            password=password,
        )
    return context


def aiokafka_config(settings: KafkaSettings) -> dict[str, Any]:
    """Return keyword arguments for aiokafka clients (`AIOKafkaConsumer(**...)`)."""
    conf: dict[str, Any] = {
        "bootstrap_servers": _require_bootstrap(settings),
        "client_id": settings.client_id,
        "security_protocol": settings.security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        conf["ssl_context"] = context
    if settings.uses_sasl:
        _security(settings)  # validates that every SASL field is present
        assert settings.sasl_password is not None
        conf["sasl_mechanism"] = settings.sasl_mechanism
        conf["sasl_plain_username"] = settings.sasl_username
        conf["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    return conf
