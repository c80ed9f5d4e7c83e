"""Deterministic EV fleet simulator: telemetry messages with ground truth for accuracy tests."""

from voltstream.simulator.config import (
    DEFAULT_START,
    FAULT_PRESETS,
    BmsCapacityMode,
    FaultRates,
    FleetConfig,
    InvalidFleetConfig,
    parse_duration,
)
from voltstream.simulator.faults import EXPECTED_ALERTS, FaultType, FaultWindow
from voltstream.simulator.fleet import Fleet
from voltstream.simulator.malformed import Corruption
from voltstream.simulator.messages import MessageKind, SimMessage
from voltstream.simulator.truth import CapacityPoint, GroundTruth, VehicleTruth
from voltstream.simulator.vehicle import VehicleSim

__all__ = [
    "DEFAULT_START",
    "EXPECTED_ALERTS",
    "FAULT_PRESETS",
    "BmsCapacityMode",
    "CapacityPoint",
    "Corruption",
    "FaultRates",
    "FaultType",
    "FaultWindow",
    "Fleet",
    "FleetConfig",
    "GroundTruth",
    "InvalidFleetConfig",
    "MessageKind",
    "SimMessage",
    "VehicleSim",
    "VehicleTruth",
    "parse_duration",
]
