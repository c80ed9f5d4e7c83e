"""Faust's `kafka://` (aiokafka) transport with a set fetch wait, and the app's assignor."""

import time
from typing import Any, ClassVar

import faust
from faust.assignor.partition_assignor import PartitionAssignor
from faust.transport.drivers import aiokafka as driver
from faust.types import TransportT


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    """Faust's consumer thread, creating consumers that use the app's fetch wait."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Faust passes a fixed fetch_max_wait_ms=1500 to aiokafka; the consumer reads the value
        # again when it starts, so setting it before start() replaces it.
        consumer._fetch_max_wait_ms = self.app.conf.voltstream_fetch_max_wait_ms
        return consumer


class _Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(driver.Transport):
    """The aiokafka transport whose consumer's fetch wait is `fetch_max_wait_ms`.

    A broker holds a fetch that finds no data for up to the fetch wait. Faust fixes it at
    1.5 s, which becomes the latency floor on a broker that holds the whole wait (librdkafka's
    mock cluster does); a short wait costs a few more idle fetch requests on a real cluster.
    """

    Consumer: ClassVar[type[Any]] = _Consumer


class Assignor(PartitionAssignor):
    """Faust's assignor; as leader of a group of several, it first waits `leader_sync_delay_s`.

    A group leader sends its SyncGroup request with everybody's assignment; librdkafka's mock
    cluster then answers the members that have already synced and rejects (INVALID_REQUEST)
    any that sync later, so such a member never gets partitions. Waiting before the
    assignment lets the others' requests arrive first. Runs on the consumer thread, during a
    rebalance only.
    """

    def assign(self, cluster: Any, member_metadata: Any) -> Any:
        """Faust's assignment, after the configured wait when there are other members."""
        delay: float = self.app.conf.voltstream_leader_sync_delay_s
        if delay and len(member_metadata) > 1:
            time.sleep(delay)
        return super().assign(cluster, member_metadata)


class App(faust.App):
    """A Faust app that uses `Transport` for its consumer and `Assignor` for rebalances."""

    def __init__(
        self,
        *args: Any,
        fetch_max_wait_ms: int = 100,
        leader_sync_delay_s: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, PartitionAssignor=Assignor, **kwargs)
        self.conf.voltstream_fetch_max_wait_ms = fetch_max_wait_ms
        self.conf.voltstream_leader_sync_delay_s = leader_sync_delay_s

    def _new_transport(self) -> TransportT:
        return Transport(self.conf.broker_consumer, self)
