"""The sink's target tables: column order and PostgreSQL types of the COPY rows, and the upserts."""

from dataclasses import dataclass
from enum import Enum


class PgType(Enum):
    """The PostgreSQL types the binary COPY encoder writes."""

    TIMESTAMPTZ = "timestamptz"
    TEXT = "text"
    FLOAT8 = "float8"
    INT4 = "int4"
    INT8 = "int8"
    BOOL = "bool"
    JSONB = "jsonb"
    INT4_ARRAY = "int4[]"
    FLOAT4_ARRAY = "float4[]"


@dataclass(frozen=True)
class Table:
    """One target table: its COPY columns (in row-tuple order) and its conflict rule."""

    name: str
    columns: tuple[tuple[str, PgType], ...]
    on_conflict: str = "ON CONFLICT DO NOTHING"

    @property
    def staging(self) -> str:
        """The per-connection TEMP staging table."""
        return f"stage_{self.name}"

    @property
    def types(self) -> tuple[PgType, ...]:
        """The column types, in row-tuple order."""
        return tuple(t for _, t in self.columns)

    @property
    def column_list(self) -> str:
        """`col, col, ...` (quoted where needed)."""
        return ", ".join(f'"{c}"' if c == "offset" else c for c, _ in self.columns)

    @property
    def staging_ddl(self) -> str:
        """Create the staging table if this session has none yet (emptied at every commit)."""
        return (
            f"CREATE TEMP TABLE IF NOT EXISTS {self.staging}"
            f" (LIKE {self.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )

    @property
    def merges(self) -> bool:
        """Whether stored rows are updated (never copied straight into the table)."""
        return self.on_conflict != "ON CONFLICT DO NOTHING"

    @property
    def copy_sql(self) -> str:
        """COPY into the staging table in binary format."""
        return f"COPY pg_temp.{self.staging} ({self.column_list}) FROM STDIN (FORMAT BINARY)"

    @property
    def direct_copy_sql(self) -> str:
        """COPY straight into the table in binary format (fails on any duplicate key)."""
        return f"COPY {self.name} ({self.column_list}) FROM STDIN (FORMAT BINARY)"

    @property
    def insert_sql(self) -> str:
        """Move the staged rows into the table, skipping (or merging) rows already stored."""
        return (
            f"INSERT INTO {self.name} AS t ({self.column_list})"  # noqa: S608 - constant names
            f" SELECT {self.column_list} FROM pg_temp.{self.staging} {self.on_conflict}"
        )


T = PgType

PACK_TELEMETRY = Table(
    "pack_telemetry",
    (
        ("time", T.TIMESTAMPTZ),
        ("vehicle_id", T.TEXT),
        ("kind", T.TEXT),
        ("pack_voltage_v", T.FLOAT8),
        ("pack_current_a", T.FLOAT8),
        ("soc_percent", T.FLOAT8),
        ("temp_c", T.FLOAT8),
        ("odometer_km", T.FLOAT8),
        ("cell_count", T.INT4),
        ("v_min", T.FLOAT8),
        ("v_max", T.FLOAT8),
        ("v_mean", T.FLOAT8),
        ("v_spread", T.FLOAT8),
        ("t_min", T.FLOAT8),
        ("t_max", T.FLOAT8),
        ("t_mean", T.FLOAT8),
        ("nominal_capacity_kwh", T.FLOAT8),
        ("current_capacity_kwh", T.FLOAT8),
        ("cycle_count", T.INT4),
        ("late", T.BOOL),
        ("ingested_at", T.TIMESTAMPTZ),
    ),
)

PACK_CELLS = Table(
    "pack_cells",
    (
        ("time", T.TIMESTAMPTZ),
        ("vehicle_id", T.TEXT),
        ("cell_ids", T.INT4_ARRAY),
        ("voltages", T.FLOAT4_ARRAY),
        ("temperatures", T.FLOAT4_ARRAY),
        ("resistances", T.FLOAT4_ARRAY),
    ),
)

BATTERY_HEALTH = Table(
    "battery_health",
    (
        ("time", T.TIMESTAMPTZ),
        ("vehicle_id", T.TEXT),
        ("soh_percent", T.FLOAT8),
        ("soh_method", T.TEXT),
        ("soh_confidence", T.TEXT),
        ("soh_std_percent", T.FLOAT8),
        ("capacity_kwh", T.FLOAT8),
        ("sessions", T.INT4),
        ("equivalent_full_cycles", T.FLOAT8),
        ("deep_discharge_cycles", T.INT4),
        ("predicted_soh", T.FLOAT8),
        ("predicted_rul_cycles", T.FLOAT8),
    ),
)

BATTERY_ALERTS = Table(
    "battery_alerts",
    (
        ("time", T.TIMESTAMPTZ),
        ("alert_id", T.TEXT),
        ("vehicle_id", T.TEXT),
        ("type", T.TEXT),
        ("severity", T.TEXT),
        ("state", T.TEXT),
        ("value", T.FLOAT8),
        ("threshold", T.FLOAT8),
        ("unit", T.TEXT),
        ("cells", T.INT4_ARRAY),
        ("first_seen", T.TIMESTAMPTZ),
        ("last_seen", T.TIMESTAMPTZ),
        ("message", T.TEXT),
        ("evidence", T.JSONB),
    ),
)

CYCLE_SERIES = Table(
    "cycle_series",
    (
        ("source", T.TEXT),
        ("battery_id", T.TEXT),
        ("cycle_index", T.INT4),
        ("time", T.TIMESTAMPTZ),
        ("features", T.JSONB),
        ("soh_target", T.FLOAT8),
        ("capacity_ah", T.FLOAT8),
    ),
)

DEAD_LETTERS = Table(
    "dead_letters",
    (
        ("time", T.TIMESTAMPTZ),
        ("reason", T.TEXT),
        ("error_class", T.TEXT),
        ("topic", T.TEXT),
        ("partition", T.INT4),
        ("offset", T.INT8),
        ("vehicle_id", T.TEXT),
        ("detail", T.TEXT),
    ),
)

# Vehicles are merged, not skipped: identity columns keep the newest non-NULL value, last_seen
# only moves forward, and a vehicle is offline while its offline mark is not older than its
# last reading (a replayed reading at last_seen does not bring it back online).
_SINCE = (
    "CASE WHEN EXCLUDED.offline THEN greatest(EXCLUDED.offline_since, t.offline_since)"
    " ELSE t.offline_since END"
)
_STILL_OFFLINE = f"({_SINCE}) >= coalesce(greatest(t.last_seen, EXCLUDED.last_seen), '-infinity')"
_VEHICLE_MERGE = f"""ON CONFLICT (vehicle_id) DO UPDATE SET
    make = coalesce(EXCLUDED.make, t.make),
    model = coalesce(EXCLUDED.model, t.model),
    chemistry = coalesce(EXCLUDED.chemistry, t.chemistry),
    profile = coalesce(EXCLUDED.profile, t.profile),
    first_seen = least(t.first_seen, EXCLUDED.first_seen),
    last_seen = greatest(t.last_seen, EXCLUDED.last_seen),
    offline = coalesce({_STILL_OFFLINE}, false),
    offline_since = CASE WHEN {_STILL_OFFLINE} THEN {_SINCE} END"""

VEHICLES = Table(
    "vehicles",
    (
        ("vehicle_id", T.TEXT),
        ("make", T.TEXT),
        ("model", T.TEXT),
        ("chemistry", T.TEXT),
        ("profile", T.TEXT),
        ("first_seen", T.TIMESTAMPTZ),
        ("last_seen", T.TIMESTAMPTZ),
        ("offline", T.BOOL),
        ("offline_since", T.TIMESTAMPTZ),
    ),
    on_conflict=_VEHICLE_MERGE,
)

#: Every table, in the order the writer fills them.
TABLES: tuple[Table, ...] = (
    VEHICLES,
    PACK_TELEMETRY,
    PACK_CELLS,
    BATTERY_HEALTH,
    BATTERY_ALERTS,
    DEAD_LETTERS,
    CYCLE_SERIES,
)
