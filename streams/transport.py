"""Faust's `kafka://` (aiokafka) transport with a configurable consumer fetch wait."""

from typing import Any, ClassVar

import faust
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


class App(faust.App):
    """A Faust app that uses `Transport` for its consumer."""

    def __init__(self, *args: Any, fetch_max_wait_ms: int = 100, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conf.voltstream_fetch_max_wait_ms = fetch_max_wait_ms

    def _new_transport(self) -> TransportT:
        return Transport(self.conf.broker_consumer, self)
