"""Forwarder settings (pydantic-settings, frozen), read from the environment at the entry point."""

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from consumers.backoff import Backoff
from consumers.filters import AlertFilter
from schemas.alerts import AlertType, Severity


def _split(value: object) -> object:
    """Accept `a,b c` from the environment as well as lists from code."""
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    return value


class _ForwarderSettings(BaseSettings):
    """What every forwarder shares: consumer group, filters, batching and retry pacing."""

    group_id: str
    min_severity: Severity = Severity.info
    types: Annotated[tuple[AlertType, ...], NoDecode] = ()
    batch_max: int = Field(default=500, ge=1, le=10_000)
    batch_wait_s: float = Field(default=0.5, gt=0)
    timeout_s: float = Field(default=10.0, gt=0)
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)
    session_timeout_s: float = Field(
        default=45.0, ge=1, description="Consumer-group session timeout (failure detection)."
    )

    @field_validator("types", mode="before")
    @classmethod
    def _split_types(cls, value: object) -> object:
        return _split(value)

    @property
    def alert_filter(self) -> AlertFilter:
        """The filter built from `min_severity` and `types`."""
        return AlertFilter.build(self.min_severity, self.types)

    @property
    def consumer_overrides(self) -> dict[str, int | str]:
        """confluent-kafka settings derived from these settings."""
        session_ms = int(self.session_timeout_s * 1000)
        return {
            "session.timeout.ms": session_ms,
            "heartbeat.interval.ms": max(100, min(3000, session_ms // 5)),
        }

    @property
    def backoff(self) -> Backoff:
        """The retry pacing."""
        return Backoff(initial_s=self.backoff_initial_s, max_s=self.backoff_max_s)


class AlertmanagerForwarderSettings(_ForwarderSettings):
    """`voltstream forward alertmanager`: env prefix `VOLTSTREAM_ALERTMANAGER_`."""

    model_config = SettingsConfigDict(
        env_prefix="VOLTSTREAM_ALERTMANAGER_",
        frozen=True,
        extra="ignore",
        hide_input_in_errors=True,  # errors must not echo tokens or passwords
    )

    url: str = "http://127.0.0.1:9093"
    group_id: str = "voltstream-alertmanager"
    bearer_token: SecretStr | None = None
    basic_auth_username: str | None = None
    basic_auth_password: SecretStr | None = None
    firing_ttl_s: float = Field(
        default=604_800.0,
        gt=0,
        description="endsAt of a firing alert is now + this; its `resolved` event ends it sooner.",
    )
    generator_url: str | None = Field(
        default=None,
        description="Link template for generatorURL; `{vehicle_id}` and `{alert_id}` expand.",
    )

    @model_validator(mode="after")
    def _one_auth(self) -> "AlertmanagerForwarderSettings":
        if self.bearer_token is not None and self.basic_auth_username is not None:
            raise ValueError("set either a bearer token or basic auth, not both")
        if (self.basic_auth_username is None) != (self.basic_auth_password is None):
            raise ValueError("basic auth needs both a username and a password")
        return self


class WebhookForwarderSettings(_ForwarderSettings):
    """`voltstream forward webhook`: env prefix `VOLTSTREAM_WEBHOOK_`."""

    model_config = SettingsConfigDict(
        env_prefix="VOLTSTREAM_WEBHOOK_",
        frozen=True,
        extra="ignore",
        hide_input_in_errors=True,  # errors must not echo the signing secret
    )

    urls: Annotated[tuple[str, ...], NoDecode] = ()
    secret: SecretStr | None = None
    group_id: str = "voltstream-webhook"
    batch_max: int = Field(default=100, ge=1, le=10_000)
    max_attempts: int = Field(default=5, ge=1, description="Attempts per alert and URL.")
    failure_budget: int = Field(
        default=5, ge=1, description="Consecutive failures that park a URL."
    )
    cooldown_s: float = Field(default=60.0, gt=0, description="How long a parked URL rests.")
    dlq_topic: str = "battery.alerts.webhook.dlq"

    @field_validator("urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        return _split(value)

    @model_validator(mode="after")
    def _complete(self) -> "WebhookForwarderSettings":
        if not self.urls:
            raise ValueError("at least one webhook URL is needed")
        if self.secret is None or not self.secret.get_secret_value():
            raise ValueError("a webhook signing secret is needed")
        return self
