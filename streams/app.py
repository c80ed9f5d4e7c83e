"""The Faust application: topics, the per-vehicle state table, the telemetry agent and timers."""

import asyncio
import logging
import time
from collections.abc import Iterator, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import faust
import psycopg
from faust.types import TP, EventT, StreamT
from psycopg_pool import PoolTimeout

from schemas.alerts import Alert, Severity
from streams.analytics.state import VehicleState
from streams.changelog import BatchProducer, ChangelogWriter
from streams.dlq import DeadLetter, SourcePosition
from streams.flush import Flusher
from streams.metrics import WorkerMetrics
from streams.processor import FlushPlan, SourceMessage, TelemetryProcessor
from streams.sink.errors import PermanentDatabaseError
from streams.sink.writer import BatchWriter
from streams.statestore import DirtyState, StateStore
from streams.transport import App
from voltstream.kafka import ssl_context
from voltstream.settings import KafkaSettings, Settings

logger = logging.getLogger(__name__)

STATE_TABLE = "vehicle-state"
#: How long the agent processes a batch before it lets the event loop run once, so that the
#: previous batch's commit keeps moving: each of its round trips, and each time the COPY data
#: fills the socket buffer, it needs the loop. Measured in the load test (`voltstream-max`):
#: with 10 ms the 3,000-reading write took ~265 ms and the agent idled ~8 s of a 33 s run
#: waiting for it; with 2 ms the write takes ~140 ms, the wait is ~3 s and the worker uses
#: 0.97 of its core instead of 0.87-0.92. A yield costs a few microseconds.
_TURN_S = 0.002


def broker_credentials(
    settings: KafkaSettings,
) -> faust.SASLCredentials | faust.SSLCredentials | None:
    """Faust credentials for the configured security protocol (None for PLAINTEXT)."""
    context = ssl_context(settings)
    if settings.uses_sasl:
        if settings.sasl_password is None or settings.sasl_username is None:
            from voltstream.errors import ConfigurationError

            raise ConfigurationError("SASL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=settings.sasl_mechanism or "PLAIN",
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


class _BytesKeyed(MutableMapping[str, bytes]):
    """View a Faust table's storage (bytes keys after changelog recovery) with str keys."""

    def __init__(self, data: MutableMapping[Any, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> bytes:
        value: bytes = self._data[key.encode()]
        return value

    def __setitem__(self, key: str, value: bytes) -> None:
        self._data[key.encode()] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key.encode()]

    def __iter__(self) -> Iterator[str]:
        for key in self._data:
            yield key.decode() if isinstance(key, bytes) else str(key)

    def __len__(self) -> int:
        return len(self._data)


class TelemetryWorker:
    """One voltstream worker process: a Faust app plus its processor, writer and outputs."""

    def __init__(self, settings: Settings, metrics: WorkerMetrics, database_url: str) -> None:
        self.settings = settings
        self.metrics = metrics
        self._database_url = database_url
        topics = settings.topics
        pipeline = settings.pipeline
        bootstrap = settings.kafka.bootstrap_servers
        if not bootstrap:
            from voltstream.errors import ConfigurationError

            raise ConfigurationError("the worker needs KAFKA_BOOTSTRAP_SERVERS")
        partitions = pipeline.table_partitions or topics.partitions
        self.app = App(
            pipeline.app_id,
            broker=[f"kafka://{host}" for host in bootstrap.split(",")],
            broker_credentials=broker_credentials(settings.kafka),
            broker_client_id=settings.kafka.client_id,
            topic_allow_declare=topics.declare,
            topic_partitions=partitions,
            topic_replication_factor=1,
            web_enabled=False,
            store="memory://",
            datadir=str(pipeline.data_dir),
            key_serializer="raw",
            value_serializer="raw",
            consumer_auto_offset_reset="earliest",
            producer_acks=-1,
            producer_linger=0.005,
            broker_commit_every=10_000,
            broker_commit_interval=1.0,
            stream_buffer_maxsize=8_192,
            broker_max_poll_records=2_000,
            fetch_max_wait_ms=pipeline.fetch_max_wait_ms,
            leader_sync_delay_s=pipeline.leader_sync_delay_s,
            table_standby_replicas=0,
            broker_session_timeout=pipeline.session_timeout_s,
            broker_heartbeat_interval=min(3.0, pipeline.session_timeout_s / 3),
        )
        self.telemetry_topic = self.app.topic(
            topics.telemetry_topic,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
        )
        self.alerts_topic = self.app.topic(
            topics.alerts_topic, key_serializer="raw", value_serializer="raw", partitions=partitions
        )
        self.dlq_topic = self.app.topic(
            topics.dlq_topic, key_serializer="raw", value_serializer="raw", partitions=partitions
        )
        self.table = self.app.Table(
            STATE_TABLE,
            default=None,
            partitions=partitions,
            key_type=bytes,
            value_type=bytes,
        )
        self.store: StateStore[VehicleState] = StateStore(
            _BytesKeyed(self.table.data),
            factory=VehicleState,
            encode=VehicleState.to_bytes,
            decode=VehicleState.from_bytes,
            capacity=pipeline.state_cache_vehicles,
        )
        from streams.predictor.forecaster import DegradationForecaster  # numpy; torch lazily

        self.processor = TelemetryProcessor(
            pipeline,
            self.store,
            alert_min_severity=Severity(pipeline.alert_min_severity),
            forecaster=DegradationForecaster.load_optional(pipeline.predictor_artifact),
        )
        self._lock = asyncio.Lock()
        self._flusher: Flusher | None = None
        self._ready_lock = asyncio.Lock()
        self._pool: Any = None
        self._last_offset: dict[TP, int] = {}
        self._pending: asyncio.Future[None] | None = None
        self.app.agent(self.telemetry_topic, name="telemetry", concurrency=1)(self._agent)
        self.app.timer(pipeline.offline_check_interval_s)(self._on_tick)
        # mode's Signal.connect annotation is a union mypy cannot match to a coroutine method.
        cast(Any, self.app.on_partitions_revoked).connect(self._on_revoked)
        cast(Any, self.app.on_rebalance_complete).connect(self._on_rebalanced)
        cast(Any, self.app.on_before_shutdown).connect(self._on_shutdown)

    async def _ready(self) -> Flusher:
        if self._flusher is not None:
            return self._flusher
        async with self._ready_lock:  # the rebalance handler and the agent may race here
            if self._flusher is not None:
                return self._flusher
            from voltstream.db.pool import open_pool

            delay = 0.5
            while True:
                try:
                    self._pool = await open_pool(self.settings.database, self._database_url)
                    break
                except (PoolTimeout, psycopg.Error) as exc:
                    # The database may still be starting: wait for it, as writes do.
                    logger.warning("database not reachable, retrying in %.1f s: %s", delay, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.settings.pipeline.db_retry_max_s)
            self._flusher = Flusher(
                BatchWriter(self._pool),
                self,
                self.metrics,
                retry_max_s=self.settings.pipeline.db_retry_max_s,
            )
        return self._flusher

    async def _agent(self, stream: StreamT[bytes]) -> None:
        """Process each batch, then commit it while the next one is fetched and processed.

        Batches are processed strictly in order under the lock; each batch's changed states
        are encoded with it. Its commit (rows, then alerts and dead letters, then changelog,
        then acks) runs as a task, and at most one commit is in flight: the next batch waits
        for it before starting its own. Acks therefore stay in offset order and only follow a
        committed write, while the commit's round trips run as the next batch is being taken
        and, every `_TURN_S` of processing, in between.
        """
        pipeline = self.settings.pipeline
        events: Sequence[EventT[bytes]]
        take = cast(Any, stream).noack_take  # StreamT does not declare it; Stream has it.
        phase = self.metrics.agent_seconds
        input_s, process_s, commit_wait_s = (
            phase.labels("input"),
            phase.labels("process"),
            phase.labels("commit_wait"),
        )
        clock = time.perf_counter
        received = self.metrics.messages_received.labels(self.telemetry_topic.get_topic_name())
        try:
            mark = clock()
            async for events in take(pipeline.flush_max_messages, within=pipeline.flush_interval_s):
                flusher = await self._ready()
                started = clock()
                input_s.inc(started - mark)
                received.inc(len(events))
                async with self._lock:
                    plan = FlushPlan()
                    ingested_at = datetime.now(UTC)
                    process = self.processor.process
                    turn = started + _TURN_S
                    for event in events:
                        m = event.message
                        position = SourcePosition(m.topic, m.partition, m.offset, m.timestamp)
                        process(SourceMessage(m.key, m.value or b"", position), plan, ingested_at)
                        if clock() >= turn:
                            await asyncio.sleep(0)
                            turn = clock() + _TURN_S
                    plan.states = self.store.drain()
                processed = clock()
                process_s.inc(processed - started)
                await self._settle()
                self._pending = asyncio.ensure_future(self._commit(flusher, stream, events, plan))
                mark = clock()
                commit_wait_s.inc(mark - processed)
        except BaseException:
            # Cancelled (shutdown, rebalance) or failed: an unfinished commit is abandoned; its
            # messages were not acked and replay.
            pending, self._pending = self._pending, None
            if pending is not None:
                pending.cancel()
            raise
        await self._settle()

    async def _settle(self) -> None:
        """Wait for the batch commit in flight, if any (its errors are raised here)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    async def _commit(
        self,
        flusher: Flusher,
        stream: StreamT[bytes],
        events: Sequence[EventT[bytes]],
        plan: FlushPlan,
    ) -> None:
        try:
            await flusher.flush(plan)
        except PermanentDatabaseError as exc:
            await self._reject_batch(events, plan, exc)
        last_offset = self._last_offset
        for event in events:
            await stream.ack(event)
            last_offset[event.message.tp] = event.message.offset
        self.metrics.messages_consumed.labels(self.telemetry_topic.get_topic_name()).inc(
            len(events)
        )

    async def _reject_batch(
        self, events: Sequence[EventT[bytes]], plan: FlushPlan, exc: PermanentDatabaseError
    ) -> None:
        """The database refused the batch for good: dead-letter every message of it."""
        # Its readings are already part of the rolling state (the next batch may have been
        # processed on top of it): they are dead-lettered whole, for inspection and replay.
        logger.error("database rejected a batch of %d messages: %s", len(events), exc)
        letters = [
            DeadLetter(
                key=e.message.key,
                value=e.message.value or b"",
                reason="db_rejected",
                error_class=type(exc).__name__,
                message=str(exc),
                field=None,
                source=SourcePosition(
                    e.message.topic, e.message.partition, e.message.offset, e.message.timestamp
                ),
            )
            for e in events
        ]
        await self.publish_dead_letters(letters)
        for letter in letters:
            self.metrics.dead_letters.labels(letter.reason).inc()

    async def _on_tick(self) -> None:
        flusher = await self._ready()
        async with self._lock:
            plan = FlushPlan()
            self.processor.check_offline(plan)
            plan.states = self.store.drain()
            if plan.alerts or len(plan.rows) or plan.states:
                await flusher.flush(plan)
        self.metrics.offline_vehicles.set(len(self.processor.offline))
        self.metrics.vehicles_tracked.set(self.processor.vehicles_tracked)
        consumer = self.app.consumer
        for tp, offset in self._last_offset.items():
            try:
                highwater = consumer.highwater(tp)
            except Exception:
                logger.debug("no highwater for %s yet", tp)
                continue
            if highwater is not None:
                lag = max(0, highwater - offset - 1)
                self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)

    async def _on_rebalanced(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        await self._ready()
        name = self.telemetry_topic.get_topic_name()
        owned = sum(1 for tp in self.app.consumer.assignment() if tp.topic == name)
        self.metrics.assigned_partitions.labels(name).set(owned)
        self.metrics.ready.set(1)

    async def _on_revoked(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        revoked: set[TP] = args[0] if args else kwargs.get("revoked", set())
        self.metrics.ready.set(0)
        name = self.telemetry_topic.get_topic_name()
        partitions = {tp.partition for tp in revoked if tp.topic == name}
        try:
            await self._settle()  # the batch in flight commits (and acks) before the handover
        except Exception:
            logger.exception("the batch in flight failed to commit (its messages replay)")
        if partitions:
            async with self._lock:
                gone = self.store.drop_partitions(partitions)
                self.processor.forget(gone)
            for tp in [tp for tp in self._last_offset if tp in revoked]:
                del self._last_offset[tp]

    async def _on_shutdown(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and not pending.done():
            # Let the commit in flight finish; if it cannot, its messages replay.
            await asyncio.wait([pending], timeout=self.settings.pipeline.db_retry_max_s)
            pending.cancel()
        if self._pool is not None:
            await self._pool.close()

    async def publish_alerts(self, alerts: Sequence[Alert]) -> None:
        """Publish alert events, keyed by vehicle, and wait for the broker's acknowledgement."""
        futures = [
            await self.alerts_topic.send(
                key=a.vehicle_id.encode(), value=a.model_dump_json().encode()
            )
            for a in alerts
        ]
        await asyncio.gather(*futures)

    async def publish_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        """Publish dead letters byte for byte with their reason headers."""
        futures = [
            await self.dlq_topic.send(key=d.key, value=d.value, headers=d.headers())
            for d in letters
        ]
        await asyncio.gather(*futures)

    async def publish_state(self, states: Sequence[DirtyState]) -> None:
        """Write changed states to the table's changelog, on the partition of their input."""
        producer = _batch_producer(self.app)
        if producer is not None:
            topic = self.table.changelog_topic.get_topic_name()
            await ChangelogWriter(producer, topic).publish(states)
            return
        futures = [
            self.table.send_changelog(s.partition, s.vehicle_id.encode(), s.value) for s in states
        ]
        await asyncio.gather(*futures)


def _batch_producer(app: faust.App) -> BatchProducer | None:
    """The aiokafka producer under Faust's `kafka://` driver, if it has started; else None.

    Faust does not expose it (its driver keeps it in `_producer`); without it, for another
    driver or before the producer started, states go through `Table.send_changelog`. Faust's
    per-record delivery callback only records the changelog offset in a persistent store; the
    table's store is `memory://`, which keeps none, so the batch path skips nothing it needs.
    """
    producer = getattr(app.producer, "_producer", None)
    if callable(getattr(producer, "create_batch", None)) and callable(
        getattr(producer, "send_batch", None)
    ):
        return cast(BatchProducer, producer)
    return None
