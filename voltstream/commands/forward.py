"""`voltstream forward alertmanager|webhook`: deliver the alerts topic to receivers."""

import argparse
import asyncio
import os
import sys
from typing import Any

from pydantic import SecretStr, ValidationError

from voltstream.settings import Settings

SEVERITIES = ["info", "warning", "major", "critical"]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group-id", default=None, help="consumer group (scale out: same id)")
    parser.add_argument("--severity", dest="min_severity", default=None, choices=SEVERITIES)
    parser.add_argument(
        "--type",
        dest="types",
        action="append",
        default=None,
        metavar="TYPE",
        help="only this alert type (repeatable)",
    )
    parser.add_argument("--batch-max", type=int, default=None)
    parser.add_argument("--metrics-host", default=None, help="override VOLTSTREAM_METRICS_HOST")
    parser.add_argument(
        "--metrics-port", type=int, default=None, help="override VOLTSTREAM_METRICS_PORT"
    )
    parser.add_argument(
        "--bootstrap-servers", default=None, help="override KAFKA_BOOTSTRAP_SERVERS"
    )


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `forward alertmanager` and `forward webhook`."""
    parser = subparsers.add_parser("forward", help="forward alerts to Alertmanager or webhooks")
    commands = parser.add_subparsers(dest="forward_command", metavar="SINK", required=True)

    am = commands.add_parser(
        "alertmanager",
        help="post alerts to Alertmanager's v2 API",
        description="Settings come from VOLTSTREAM_ALERTMANAGER_* variables; flags override.",
    )
    am.add_argument("--url", default=None, help="Alertmanager base URL (http://host:9093)")
    am.add_argument(
        "--bearer-token-env",
        default=None,
        metavar="NAME",
        help="read a bearer token from this environment variable",
    )
    am.add_argument("--basic-auth-username", default=None)
    am.add_argument(
        "--basic-auth-password-env",
        default=None,
        metavar="NAME",
        help="read the basic-auth password from this environment variable",
    )
    am.add_argument("--firing-ttl", dest="firing_ttl_s", type=float, default=None, metavar="S")
    _common(am)
    am.set_defaults(func=run_alertmanager)

    hook = commands.add_parser(
        "webhook",
        help="post signed alerts to webhook URLs",
        description="Settings come from VOLTSTREAM_WEBHOOK_* variables; flags override.",
    )
    hook.add_argument(
        "--url", dest="urls", action="append", default=None, help="receiver URL (repeatable)"
    )
    hook.add_argument(
        "--secret-env",
        default=None,
        metavar="NAME",
        help="read the HMAC secret from this environment variable "
        "(default: VOLTSTREAM_WEBHOOK_SECRET)",
    )
    hook.add_argument("--max-attempts", type=int, default=None)
    hook.add_argument("--failure-budget", type=int, default=None)
    hook.add_argument("--cooldown", dest="cooldown_s", type=float, default=None, metavar="S")
    hook.add_argument("--dlq-topic", default=None)
    _common(hook)
    hook.set_defaults(func=run_webhook)


def _secret_from_env(name: str | None) -> SecretStr | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise ValueError(f"environment variable {name} is not set")
    return SecretStr(value)


def _overrides(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings().with_services(bootstrap_servers=args.bootstrap_servers)
    metrics = _overrides(args, ["metrics_host", "metrics_port"])
    if metrics:
        update = {k.removeprefix("metrics_"): v for k, v in metrics.items()}
        settings = settings.model_copy(
            update={"metrics": settings.metrics.model_copy(update=update)}
        )
    return settings


COMMON = ["group_id", "min_severity", "types", "batch_max"]


def run_alertmanager(args: argparse.Namespace) -> int:
    """Entry point of `voltstream forward alertmanager`."""
    from consumers.errors import ConsumerError
    from consumers.runner import run_alertmanager_forwarder, run_until_signalled
    from consumers.settings import AlertmanagerForwarderSettings
    from voltstream.errors import VoltstreamError

    try:
        overrides = _overrides(args, [*COMMON, "url", "basic_auth_username", "firing_ttl_s"])
        token = _secret_from_env(args.bearer_token_env)
        password = _secret_from_env(args.basic_auth_password_env)
        if token is not None:
            overrides["bearer_token"] = token
        if password is not None:
            overrides["basic_auth_password"] = password
        forwarder = AlertmanagerForwarderSettings(**overrides)
        settings = _settings(args)

        async def main(stop: asyncio.Event) -> None:
            await run_alertmanager_forwarder(settings, forwarder, stop=stop)

        run_until_signalled(main)
    except (ValidationError, ValueError, VoltstreamError, ConsumerError) as exc:
        print(f"voltstream forward alertmanager: {exc}", file=sys.stderr)
        return 2
    return 0


def run_webhook(args: argparse.Namespace) -> int:
    """Entry point of `voltstream forward webhook`."""
    from consumers.errors import ConsumerError
    from consumers.runner import run_until_signalled, run_webhook_forwarder
    from consumers.settings import WebhookForwarderSettings
    from voltstream.errors import VoltstreamError

    try:
        overrides = _overrides(
            args, [*COMMON, "urls", "max_attempts", "failure_budget", "cooldown_s", "dlq_topic"]
        )
        secret = _secret_from_env(args.secret_env)
        if secret is not None:
            overrides["secret"] = secret
        forwarder = WebhookForwarderSettings(**overrides)
        settings = _settings(args)

        async def main(stop: asyncio.Event) -> None:
            await run_webhook_forwarder(settings, forwarder, stop=stop)

        run_until_signalled(main)
    except (ValidationError, ValueError, VoltstreamError, ConsumerError) as exc:
        print(f"voltstream forward webhook: {exc}", file=sys.stderr)
        return 2
    return 0
