"""Fast telemetry decoder: msgspec types derived from the `schemas` models, pydantic as referee."""

import dataclasses
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import msgspec
from pydantic import (
    BaseModel,
    BeforeValidator,
    PlainSerializer,
    PlainValidator,
    Strict,
    WithJsonSchema,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from schemas.checks import all_unique, capacity_ratio_error, text_error
from schemas.context import make_context
from schemas.decode import decode_telemetry, load_json, utc_now, validate_reading
from schemas.errors import NestingTooDeep, NotUtf8, SchemaError
from schemas.limits import DecodeLimits
from schemas.rawcheck import json_too_deep
from schemas.shape import SHAPE_KEYS, Shape, message_shape
from schemas.telemetry import (
    BatchEnvelope,
    PackSample,
    PackSnapshot,
    Reading,
    check_schema_version,
)
from schemas.timestamps import check_not_future, parse_utc_timestamp

# --------------------------------------------------------------------------------------------
# What the derivation knows about pydantic metadata. Anything else makes FastDecoder() raise, so
# a new constraint or validator on a model cannot silently be skipped by the fast path.

_CONSTRAINTS: Final = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")
_NATIVE_BEFORE: Final[frozenset[Callable[..., Any]]] = frozenset({check_schema_version})
"""Before-validators msgspec enforces by itself (Literal rejects bool/float spellings natively)."""
_CONVERTERS: Final[Mapping[Callable[..., Any], type]] = {parse_utc_timestamp: str}
"""Plain validators: msgspec decodes the input type, then the SAME function converts it."""
_IGNORED_META: Final = (PlainSerializer, WithJsonSchema)
_SHAPE_KEY_NAMES: Final = tuple(dict.fromkeys(key for _, a, b in SHAPE_KEYS for key in (a, b)))
_DELETE_ALL_BUT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")

Values = dict[str, Any]
Check = Callable[[Values, tuple[str, ...], DecodeLimits, datetime], bool]


class DerivationError(TypeError):
    """A model uses a type, constraint or validator the fast decoder has no mirror for."""


# Mirrors of the models' field validators (by validator name), built on the same shared checks.
def _mirror_not_future(
    v: Values, fields: tuple[str, ...], lim: DecodeLimits, now: datetime
) -> bool:
    return all(check_not_future(v[name], now, lim.max_future_skew_s) is None for name in fields)


def _mirror_cells(v: Values, fields: tuple[str, ...], lim: DecodeLimits, now: datetime) -> bool:
    for name in fields:
        cells = v[name]
        if len(cells) > lim.max_cells or not all_unique(map(_get_id, cells), len(cells)):
            return False
    return True


def _mirror_capacity(v: Values, fields: tuple[str, ...], lim: DecodeLimits, now: datetime) -> bool:
    return all(capacity_ratio_error(v["nominal_capacity_kwh"], v[name]) is None for name in fields)


def _mirror_text(v: Values, fields: tuple[str, ...], lim: DecodeLimits, now: datetime) -> bool:
    for name in fields:
        text = v[name]
        if text is not None and text_error(text) is not None:
            return False
    return True


def _mirror_readings(v: Values, fields: tuple[str, ...], lim: DecodeLimits, now: datetime) -> bool:
    return all(len(v[name]) <= lim.max_batch_readings for name in fields)


_get_id: Final = attrgetter("id")
_MIRRORS: Final[Mapping[str, Check]] = {
    "_timestamp_not_future": _mirror_not_future,
    "_cells_bounded_unique": _mirror_cells,
    "_capacity_plausible": _mirror_capacity,
    "_hints_printable": _mirror_text,
    "_readings_bounded": _mirror_readings,
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """One model's derived msgspec type and what to do after msgspec accepted a value."""

    model: type[BaseModel]
    struct: type[msgspec.Struct]
    names: tuple[str, ...]
    probes: tuple[str, ...]
    converters: tuple[tuple[str, Callable[[Any], Any]], ...]
    checks: tuple[tuple[Check, tuple[str, ...]], ...]
    nested: tuple[tuple[str, "_Plan"], ...]
    sequences: tuple[tuple[str, int], ...]
    """(field, JSON brackets per item): 2 for flat model items, 0 for raw items counted later."""
    depth: int
    fields_set: frozenset[str]


def _settings(item: object) -> dict[str, Any]:
    """The non-None settings of one constraint object (annotated_types or pydantic metadata)."""
    if dataclasses.is_dataclass(item):
        found = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    else:
        found = dict(getattr(item, "__dict__", {}))
    return {name: value for name, value in found.items() if value is not None}


def _constraints(
    extras: tuple[Any, ...],
) -> tuple[dict[str, Any], Callable[..., Any] | None, bool]:
    """msgspec.Meta kwargs, an optional converter and strictness, from Annotated metadata."""
    meta: dict[str, Any] = {}
    converter: Callable[..., Any] | None = None
    strict = False
    items: list[Any] = []
    for extra in extras:
        items.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
    for item in items:
        if isinstance(item, BeforeValidator) and item.func in _NATIVE_BEFORE:
            continue
        if isinstance(item, PlainValidator) and item.func in _CONVERTERS:
            converter = item.func
            continue
        if isinstance(item, _IGNORED_META):
            continue
        if isinstance(item, Strict):
            strict = item.strict
            continue
        found = _settings(item)
        unknown = set(found) - set(_CONSTRAINTS)
        if not found or unknown:
            raise DerivationError(f"no fast equivalent for field metadata {item!r}")
        meta.update(found)
    if isinstance(meta.get("pattern"), str) and meta["pattern"].endswith("$"):
        # pydantic's Rust regex `$` is end-of-text; Python's re also matches before a final "\n".
        meta["pattern"] = meta["pattern"][:-1] + r"\Z"
    return meta, converter, strict


def _is_model(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


class _Deriver:
    """Turns pydantic models into msgspec Struct types, once, at FastDecoder construction."""

    def __init__(self) -> None:
        self.plans: dict[type[BaseModel], _Plan] = {}

    def field_type(self, annotation: Any, extras: tuple[Any, ...] = ()) -> tuple[Any, Any]:
        """(msgspec type, converter or None) for one annotation."""
        origin = get_origin(annotation)
        if origin is Annotated:
            base, *more = get_args(annotation)
            return self.field_type(base, (*extras, *more))
        meta, converter, strict = _constraints(extras)
        if converter is not None:
            return _CONVERTERS[converter], converter
        if origin in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) != 1 or len(get_args(annotation)) != 2:
                raise DerivationError(f"only `X | None` unions are derivable: {annotation!r}")
            if get_origin(options[0]) in (tuple, list) or _is_model(options[0]):
                raise DerivationError(f"optional containers are not derivable: {annotation!r}")
            inner, inner_conv = self.field_type(options[0], extras)
            if inner_conv is not None:
                raise DerivationError(f"converter inside an optional: {annotation!r}")
            return inner | None, None
        if origin is tuple or origin is list:
            args = get_args(annotation)
            item = args[0]
            if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
                raise DerivationError(f"only homogeneous tuples are derivable: {annotation!r}")
            if item is Any:
                item_type: Any = msgspec.Raw
            elif isinstance(item, type) and issubclass(item, BaseModel):
                item_type = self.plan(item).struct
            else:
                item_type, _ = self.field_type(item)
            container = tuple[item_type, ...] if origin is tuple else list[item_type]
            return (Annotated[container, msgspec.Meta(**meta)] if meta else container), None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self.plan(annotation).struct, None
        if annotation in (int, float, str) and not strict:
            # msgspec never coerces; a lax pydantic scalar would make the fast path stricter.
            raise DerivationError(f"{annotation!r} field is not strict in the model")
        if origin is Literal or annotation in (int, float, str):
            return (Annotated[annotation, msgspec.Meta(**meta)] if meta else annotation), None
        raise DerivationError(f"no fast equivalent for type {annotation!r}")

    def plan(self, model: type[BaseModel], probe_shapes: bool = False) -> _Plan:
        """Derive (and memoise) the plan for `model`."""
        if model in self.plans and not probe_shapes:
            return self.plans[model]
        if model.__pydantic_decorators__.model_validators:
            raise DerivationError(f"{model.__name__} has model validators without a fast mirror")
        fields: list[tuple[str, Any, Any]] = []
        converters: list[tuple[str, Callable[[Any], Any]]] = []
        nested: list[tuple[str, _Plan]] = []
        sequences: list[tuple[str, int]] = []
        depth = 1
        for name, info in model.model_fields.items():
            if info.default_factory is not None:
                raise DerivationError(f"{model.__name__}.{name}: default_factory not derivable")
            ftype, converter = self.field_type(info.annotation, tuple(info.metadata))
            if converter is not None:
                converters.append((name, converter))
            target = info.annotation
            if isinstance(target, type) and issubclass(target, BaseModel):
                nested.append((name, self.plan(target)))
                depth = max(depth, 1 + self.plan(target).depth)
            elif get_origin(target) in (tuple, list):
                item = get_args(target)[0]
                if isinstance(item, type) and issubclass(item, BaseModel):
                    if self.plan(item).depth != 1 or self.plan(item).nested:
                        raise DerivationError(f"{model.__name__}.{name}: items must be flat")
                    sequences.append((name, 2))
                    depth = max(depth, 3)
                else:
                    sequences.append((name, 0))
                    depth = max(depth, 2)
            default = msgspec.NODEFAULT if info.default is PydanticUndefined else info.default
            fields.append((name, ftype, default))
        probes = tuple(
            key for key in _SHAPE_KEY_NAMES if probe_shapes and key not in model.model_fields
        )
        fields.extend((key, msgspec.Raw | msgspec.UnsetType, msgspec.UNSET) for key in probes)
        checks: list[tuple[Check, tuple[str, ...]]] = []
        for vname, decorator in model.__pydantic_decorators__.field_validators.items():
            mirror = _MIRRORS.get(vname)
            if mirror is None:
                raise DerivationError(f"{model.__name__}.{vname} has no fast mirror")
            checks.append((mirror, tuple(decorator.info.fields)))
        struct = msgspec.defstruct(
            f"Fast{model.__name__}",
            fields,
            kw_only=True,
            frozen=True,
            gc=False,
            forbid_unknown_fields=model.model_config.get("extra") == "forbid",
        )
        plan = _Plan(
            model=model,
            struct=struct,
            names=tuple(model.model_fields),
            probes=probes,
            converters=tuple(converters),
            checks=tuple(checks),
            nested=tuple(nested),
            sequences=tuple(sequences),
            depth=depth,
            fields_set=frozenset(model.model_fields),
        )
        if not probe_shapes:
            self.plans[model] = plan
        return plan


def derive_struct(model: type[BaseModel]) -> type[msgspec.Struct]:
    """The msgspec Struct type derived from `model` (raises DerivationError if not derivable)."""
    return _Deriver().plan(model).struct


_new: Final = object.__new__
_set: Final = object.__setattr__


def _instantiate(model: type[BaseModel], values: Values, fields_set: frozenset[str]) -> Any:
    """A model instance from already-validated values (like `model_construct`, much cheaper)."""
    obj = _new(model)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", fields_set)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


def _with_items(envelope: _Plan, item: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """The envelope struct with its raw-reading sequences typed as `item` (same constraints)."""
    fields: list[tuple[str, Any, Any]] = []
    raw_sequences = {name for name, per_item in envelope.sequences if per_item == 0}
    for field in msgspec.structs.fields(envelope.struct):
        ftype: Any = field.type
        if field.name in raw_sequences:
            _base, *meta = get_args(ftype) if get_origin(ftype) is Annotated else (ftype,)
            typed: Any = list[item]  # type: ignore[valid-type]
            ftype = Annotated[typed, *meta] if meta else typed
        fields.append((field.name, ftype, field.default))
    return msgspec.defstruct(
        f"{envelope.struct.__name__}Of{item.__name__}", fields, kw_only=True, frozen=True, gc=False
    )


class _Reject(Exception):
    """The fast checks did not accept; the pydantic reference decides (and names the error)."""


def _sniff(raw: bytes) -> Shape | None:
    """A cheap guess of the message shape; a wrong guess only costs the reference fallback."""
    cells = raw.find(b'"cells"')
    if cells >= 0:
        # A batch's `readings` key precedes its first reading's `cells`: search only up to there.
        return "batch" if raw.find(b'"readings"', 0, cells) >= 0 else "snapshot"
    if b'"readings"' in raw:
        return "batch"
    if b'"metrics"' in raw:
        return "sample"
    return None


class _ShapeDecoder:
    """Decodes one shape (snapshot or sample) from bytes to a validated model instance."""

    def __init__(self, plan: _Plan, shape: Shape, limits: DecodeLimits) -> None:
        self.plan = plan
        self.shape = shape
        self.limits = limits
        self.decoder = msgspec.json.Decoder(plan.struct)

    def build(self, plan: _Plan, struct: Any, now: datetime) -> tuple[Any, int]:
        """(model instance, number of JSON brackets it accounts for); raises _Reject."""
        values = msgspec.structs.asdict(struct)
        brackets = 2
        present = [probe for probe in plan.probes if values.pop(probe) is not msgspec.UNSET]
        if present and message_shape(dict.fromkeys((*plan.names, *present))) != self.shape:
            raise _Reject  # e.g. `vehicle_id` + `cells` + `readings`: ambiguous, unknown shape
        try:
            for name, convert in plan.converters:
                values[name] = convert(values[name])
        except ValueError:
            raise _Reject from None
        for check, fields in plan.checks:
            if not check(values, fields, self.limits, now):
                raise _Reject
        for name, sub in plan.nested:
            inner, count = self.build(sub, values[name], now)
            values[name] = inner
            brackets += count
        for name, per_item in plan.sequences:
            brackets += 2 + per_item * len(values[name])
        return _instantiate(plan.model, values, plan.fields_set), brackets

    def decode(self, raw: bytes | msgspec.Raw, now: datetime) -> tuple[Reading, int]:
        """Validated reading and its bracket count; raises _Reject."""
        try:
            struct = self.decoder.decode(raw)
        except (msgspec.DecodeError, RecursionError):
            raise _Reject from None
        reading, brackets = self.build(self.plan, struct, now)
        result: Reading = reading
        return result, brackets


class FastDecoder:
    """`decode_telemetry` semantics at msgspec speed.

    Types and constraints are derived once, here, from the pydantic models (`model_fields`,
    their annotated_types metadata, and mirrors of their field validators built on the same
    shared check functions). A message the fast checks accept becomes real `PackSnapshot` /
    `PackSample` instances (built without re-validation); a snapshot's `cells` are lightweight
    frozen structs with `CellReading`'s attribute names. Anything the fast checks do not accept
    is handed to the pydantic reference (`schemas.decode`), which returns or raises the exact
    same `SchemaError` (reason and field) as `decode_telemetry`: rejects cost a second pass.
    """

    def __init__(self, limits: DecodeLimits = DecodeLimits()) -> None:  # noqa: B008
        self.limits = limits
        deriver = _Deriver()
        snapshot = deriver.plan(PackSnapshot, probe_shapes=True)
        sample = deriver.plan(PackSample, probe_shapes=True)
        envelope = deriver.plan(BatchEnvelope, probe_shapes=True)
        self._readings: dict[Shape, _ShapeDecoder] = {
            "snapshot": _ShapeDecoder(snapshot, "snapshot", limits),
            "sample": _ShapeDecoder(sample, "sample", limits),
        }
        self._envelope = _ShapeDecoder(envelope, "batch", limits)
        self._snapshots_decoder = msgspec.json.Decoder(_with_items(envelope, snapshot.struct))
        self.fallbacks = 0
        """How many messages/readings the fast checks handed to the pydantic reference."""

    def decode(self, raw: bytes, now: datetime | None = None) -> list[Reading | SchemaError]:
        """Decode one message; same results and exceptions as `schemas.decode_telemetry`."""
        limits = self.limits
        clock = utc_now(now)
        if type(raw) is not bytes or len(raw) > limits.max_payload_bytes:
            return self._reference(raw, clock)
        if not raw.isascii():
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise NotUtf8(f"invalid UTF-8 at byte {exc.start}") from None
        shape = _sniff(raw)
        try:
            if shape == "batch":
                results, brackets = self._batch(raw, clock)
                depth = 2 + max(decoder.plan.depth for decoder in self._readings.values())
            elif shape is not None:
                reading, brackets = self._readings[shape].decode(raw, clock)
                results, depth = [reading], self._readings[shape].plan.depth
            else:
                raise _Reject
        except _Reject:
            return self._reference(raw, clock)
        structure_known = brackets is not None and brackets == len(
            raw.translate(None, _DELETE_ALL_BUT_BRACKETS)
        )
        if (not structure_known or depth > limits.max_depth) and json_too_deep(
            raw, limits.max_depth
        ):
            raise NestingTooDeep(f"JSON nests deeper than {limits.max_depth} levels")
        return results

    def _batch(self, raw: bytes, now: datetime) -> tuple[list[Reading | SchemaError], int | None]:
        """All-snapshot batches decode in one typed pass; anything else reading by reading."""
        try:
            return self._snapshot_batch(raw, now)
        except _Reject:
            return self._batch_by_reading(raw, now)

    def _snapshot_batch(self, raw: bytes, now: datetime) -> tuple[list[Reading | SchemaError], int]:
        try:
            struct = self._snapshots_decoder.decode(raw)
        except (msgspec.DecodeError, RecursionError):
            raise _Reject from None
        envelope, brackets = self._envelope.build(self._envelope.plan, struct, now)
        snapshots = self._readings["snapshot"]
        vehicle_id = envelope.vehicle_id
        results: list[Reading | SchemaError] = []
        for item in envelope.readings:
            reading, count = snapshots.build(snapshots.plan, item, now)
            if reading.vehicle_id != vehicle_id:
                raise _Reject
            results.append(reading)
            brackets += count
        return results, brackets

    def _batch_by_reading(
        self, raw: bytes, now: datetime
    ) -> tuple[list[Reading | SchemaError], int | None]:
        envelope, brackets = self._envelope.decode(raw, now)
        assert isinstance(envelope, BatchEnvelope)
        vehicle_id = envelope.vehicle_id
        total: int | None = brackets
        results: list[Reading | SchemaError] = []
        context = make_context(self.limits, now)
        for index, item in enumerate(envelope.readings):
            data = bytes(item)
            shape = _sniff(data)
            try:
                if shape is None or shape == "batch":
                    raise _Reject
                reading, count = self._readings[shape].decode(data, now)
                if reading.vehicle_id != vehicle_id:
                    raise _Reject
            except _Reject:
                self.fallbacks += 1
                obj = load_json(data)
                results.append(validate_reading(obj, context, f"readings[{index}]", vehicle_id))
                total = None
                continue
            results.append(reading)
            if total is not None:
                total += count
        return results, total

    def _reference(self, raw: Any, now: datetime) -> list[Reading | SchemaError]:
        self.fallbacks += 1
        return decode_telemetry(raw, self.limits, now)


__all__ = ["DerivationError", "FastDecoder", "derive_struct"]
