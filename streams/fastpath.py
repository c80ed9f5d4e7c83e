"""Fast telemetry decoder: msgspec types derived from the `schemas` models, pydantic as referee."""

import dataclasses
import functools
import keyword
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal, Union, cast, get_args, get_origin

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

Builder = Callable[[Any, datetime], tuple[Any, int]]
"""A plan's compiled `build(struct, now) -> (model instance, JSON brackets)`; raises _Reject."""


class DerivationError(TypeError):
    """A model uses a type, constraint or validator the fast decoder has no mirror for."""


@functools.lru_cache(maxsize=64)
def _default_ids(count: int) -> list[int]:
    return list(range(count))


def _cells_ok(cells: Sequence[Any], max_cells: int) -> bool:
    """What `_cells_bounded_unique` accepts: at most `max_cells` cells, pairwise distinct ids."""
    count = len(cells)
    if count > max_cells:
        return False
    ids = [cell.id for cell in cells]
    return ids == _default_ids(count) or all_unique(ids, count)


# Mirrors of the models' field validators (by validator name), built on the same shared checks:
# a boolean expression per validated field `{f}`; `{v[name]}` is another field of the model. The
# compiled builders evaluate them on the msgspec-validated (and converted) field values.
_MIRRORS: Final[Mapping[str, str]] = {
    "_timestamp_not_future": "_check_not_future({f}, now, _max_future_skew_s) is None",
    "_cells_bounded_unique": "_cells_ok({f}, _max_cells)",
    "_capacity_plausible": "_capacity_ratio_error({v[nominal_capacity_kwh]}, {f}) is None",
    "_hints_printable": "({f} is None or _text_error({f}) is None)",
    "_readings_bounded": "len({f}) <= _max_batch_readings",
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """One model's derived msgspec type and what to do after msgspec accepted a value."""

    model: type[BaseModel]
    struct: type[msgspec.Struct]
    names: tuple[str, ...]
    probes: tuple[str, ...]
    converters: tuple[tuple[str, Callable[[Any], Any]], ...]
    checks: tuple[tuple[str, tuple[str, ...]], ...]
    """(mirror expression, validated fields) per field validator of the model."""
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

    def __init__(self, closed: bool = False) -> None:
        self.plans: dict[type[BaseModel], _Plan] = {}
        self.closed = closed
        """Closed structs reject unknown keys: a message they decode has no untyped containers."""

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
        checks: list[tuple[str, tuple[str, ...]]] = []
        for vname, decorator in model.__pydantic_decorators__.field_validators.items():
            mirror = _MIRRORS.get(vname)
            if mirror is None:
                raise DerivationError(f"{model.__name__}.{vname} has no fast mirror")
            checks.append((mirror, tuple(decorator.info.fields)))
        for name, _ftype, _default in fields:
            if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
                raise DerivationError(f"{model.__name__}.{name}: not usable as a variable name")
        struct = msgspec.defstruct(
            f"Fast{model.__name__}{'Closed' if self.closed else ''}",
            fields,
            kw_only=True,
            frozen=True,
            gc=False,
            forbid_unknown_fields=self.closed or model.model_config.get("extra") == "forbid",
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


def _slot_setter(name: str) -> Callable[[Any, Any], None]:
    """`object.__setattr__(obj, name, value)` for one of BaseModel's slots, as its C descriptor."""
    setter = getattr(BaseModel.__dict__.get(name), "__set__", None)
    if callable(setter):
        return cast(Callable[[Any, Any], None], setter)
    return lambda obj, value: _set(obj, name, value)


def _probe_check(plan: _Plan, shape: Shape | None) -> Callable[[Any], None]:
    """Raise _Reject when the shape keys a struct carries besides its own make it ambiguous."""
    names, probes = plan.names, plan.probes

    def check(struct: Any) -> None:
        present = [probe for probe in probes if getattr(struct, probe) is not msgspec.UNSET]
        if present and message_shape(dict.fromkeys((*names, *present))) != shape:
            raise _Reject  # e.g. `vehicle_id` + `cells` + `readings`: ambiguous, unknown shape

    return check


_BUILD_NAMESPACE: Final[Mapping[str, object]] = {
    "_Reject": None,  # set below, once the class exists
    "_UNSET": msgspec.UNSET,
    "_new": _new,
    "_set_dict": _slot_setter("__dict__"),
    "_set_fields_set": _slot_setter("__pydantic_fields_set__"),
    "_set_extra": _slot_setter("__pydantic_extra__"),
    "_set_private": _slot_setter("__pydantic_private__"),
    "_check_not_future": check_not_future,
    "_capacity_ratio_error": capacity_ratio_error,
    "_text_error": text_error,
    "_cells_ok": _cells_ok,
}


def _compile_builder(plan: _Plan, shape: Shape | None, limits: DecodeLimits) -> Builder:
    """The plan's builder: msgspec struct -> (model instance, number of JSON brackets it spans).

    Generated once per plan from the derived plan (as `collections.namedtuple` and
    `streams.sink.copy.row_encoder` generate code): straight-line reads of the struct's fields,
    the plan's converters, one `and` of every mirror expression, nested builders, then the model
    instance from the validated values without re-validation (like `model_construct`, without
    its per-field loop). Raises _Reject when a check does not accept.
    """
    local = {name: f"f_{name}" for name in plan.names}
    namespace: dict[str, Any] = {
        **_BUILD_NAMESPACE,
        "_Reject": _Reject,
        "_model": plan.model,
        "_fields_set": plan.fields_set,
        "_max_cells": limits.max_cells,
        "_max_future_skew_s": limits.max_future_skew_s,
        "_max_batch_readings": limits.max_batch_readings,
    }
    lines = ["def build(s, now):"]
    if plan.probes:
        namespace["_probe"] = _probe_check(plan, shape)
        present = " or ".join(f"s.{probe} is not _UNSET" for probe in plan.probes)
        lines += [f"    if {present}:", "        _probe(s)"]
    lines += [f"    {local[name]} = s.{name}" for name in plan.names]
    if plan.converters:
        lines.append("    try:")
        for name, convert in plan.converters:
            namespace[f"_convert_{name}"] = convert
            lines.append(f"        {local[name]} = _convert_{name}({local[name]})")
        lines += ["    except ValueError:", "        raise _Reject from None"]
    try:
        tests = [
            template.format(f=local[field], v=local)
            for template, fields in plan.checks
            for field in fields
        ]
    except KeyError as exc:
        raise DerivationError(f"{plan.model.__name__}: a mirror needs field {exc}") from None
    if tests:
        lines += [f"    if not ({' and '.join(tests)}):", "        raise _Reject"]
    brackets = ["2"]
    for name, sub in plan.nested:
        namespace[f"_build_{name}"] = _compile_builder(sub, None, limits)
        lines.append(f"    {local[name]}, n_{name} = _build_{name}({local[name]}, now)")
        brackets.append(f"n_{name}")
    for name, per_item in plan.sequences:
        brackets.append(f"{per_item} * len({local[name]}) + 2" if per_item else "2")
    values = ", ".join(f"{name!r}: {local[name]}" for name in plan.names)
    lines += [
        "    obj = _new(_model)",
        f"    _set_dict(obj, {{{values}}})",
        "    _set_fields_set(obj, _fields_set)",
        "    _set_extra(obj, None)",
        "    _set_private(obj, None)",
        f"    return obj, {' + '.join(brackets)}",
    ]
    exec("\n".join(lines), namespace)  # noqa: S102 - source built from the derived plan
    return cast(Builder, namespace["build"])


def _with_items(
    envelope: _Plan, item: type[msgspec.Struct], closed: bool = False
) -> type[msgspec.Struct]:
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
        f"{envelope.struct.__name__}Of{item.__name__}",
        fields,
        kw_only=True,
        frozen=True,
        gc=False,
        forbid_unknown_fields=closed,
    )


class _Reject(Exception):
    """The fast checks did not accept; the pydantic reference decides (and names the error)."""


_DECODE_ERRORS: Final = (msgspec.DecodeError, RecursionError)
_CLOSED_RETRY: Final = 64
"""After a closed-struct miss on a message the open structs decoded, skip that many attempts."""


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
    """Decodes one shape (snapshot, sample or batch envelope) to a validated model instance.

    Two derivations of the same plan: closed structs (unknown keys rejected) are tried first,
    because a message they decode has no container the types do not account for, so its
    nesting depth is known without scanning the bytes; open structs (unknown keys ignored, as
    the models do, shape keys probed) decode the rest.
    """

    def __init__(self, plan: _Plan, closed: _Plan, shape: Shape, limits: DecodeLimits) -> None:
        self.plan = plan
        self.shape = shape
        self.decoder = msgspec.json.Decoder(plan.struct)
        self.build = _compile_builder(plan, shape, limits)
        self.closed_decoder = msgspec.json.Decoder(closed.struct)
        self.closed_build = _compile_builder(closed, shape, limits)
        self.closed_skip = 0

    def decode(self, raw: bytes | msgspec.Raw, now: datetime) -> tuple[Reading, int, bool]:
        """(validated model, its JSON bracket count, whether every container was typed).

        Raises _Reject.
        """
        missed = False
        if self.closed_skip:
            self.closed_skip -= 1
        else:
            try:
                struct = self.closed_decoder.decode(raw)
            except _DECODE_ERRORS:
                missed = True
            else:
                reading, brackets = self.closed_build(struct, now)
                return reading, brackets, True
        try:
            struct = self.decoder.decode(raw)
        except _DECODE_ERRORS:
            raise _Reject from None
        reading, brackets = self.build(struct, now)
        if missed:  # unknown keys (or stray shape keys), not bad values: open structs accepted
            self.closed_skip = _CLOSED_RETRY
        return reading, brackets, False


Results = list[Reading | SchemaError]


class FastDecoder:
    """`decode_telemetry` semantics at msgspec speed.

    Types and constraints are derived once, here, from the pydantic models (`model_fields`,
    their annotated_types metadata, and mirrors of their field validators built on the same
    shared check functions), and so is the straight-line code that checks a decoded struct and
    builds the model (`_compile_builder`). A message the fast checks accept becomes real
    `PackSnapshot` / `PackSample` instances (built without re-validation); a snapshot's `cells`
    are lightweight frozen structs with `CellReading`'s attribute names. Anything the fast
    checks do not accept is handed to the pydantic reference (`schemas.decode`), which returns
    or raises the exact same `SchemaError` (reason and field) as `decode_telemetry`: rejects
    cost a second pass.
    """

    def __init__(self, limits: DecodeLimits = DecodeLimits()) -> None:  # noqa: B008
        self.limits = limits
        deriver, closed = _Deriver(), _Deriver(closed=True)
        snapshot = deriver.plan(PackSnapshot, probe_shapes=True)
        sample = deriver.plan(PackSample, probe_shapes=True)
        envelope = deriver.plan(BatchEnvelope, probe_shapes=True)
        closed_snapshot = closed.plan(PackSnapshot)
        closed_envelope = closed.plan(BatchEnvelope)
        self._readings: dict[Shape, _ShapeDecoder] = {
            "snapshot": _ShapeDecoder(snapshot, closed_snapshot, "snapshot", limits),
            "sample": _ShapeDecoder(sample, closed.plan(PackSample), "sample", limits),
        }
        self._envelope = _ShapeDecoder(envelope, closed_envelope, "batch", limits)
        self._batch_depth = 2 + max(snapshot.depth, sample.depth)
        self._snapshots_decoder = msgspec.json.Decoder(_with_items(envelope, snapshot.struct))
        self._closed_snapshots_decoder = msgspec.json.Decoder(
            _with_items(closed_envelope, closed_snapshot.struct, closed=True)
        )
        self._closed_skip = 0
        self.fallbacks = 0
        """How many messages/readings the fast checks handed to the pydantic reference."""

    def decode(self, raw: bytes, now: datetime | None = None) -> Results:
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
                results, brackets, typed = self._batch(raw, clock)
                depth = self._batch_depth
            elif shape is not None:
                decoder = self._readings[shape]
                reading, brackets, typed = decoder.decode(raw, clock)
                results, depth = [reading], decoder.plan.depth
            else:
                raise _Reject
        except _Reject:
            return self._reference(raw, clock)
        # Nesting: known from the types when every container was typed, or when the brackets
        # in the text are exactly those of the typed containers (none inside strings or in
        # ignored fields); otherwise, or when that depth is over the limit, scan the text.
        if typed:
            scan = depth > limits.max_depth
        else:
            scan = (
                brackets is None
                or depth > limits.max_depth
                or brackets != len(raw.translate(None, _DELETE_ALL_BUT_BRACKETS))
            )
        if scan and json_too_deep(raw, limits.max_depth):
            raise NestingTooDeep(f"JSON nests deeper than {limits.max_depth} levels")
        return results

    def _batch(self, raw: bytes, now: datetime) -> tuple[Results, int | None, bool]:
        """All-snapshot batches decode in one typed pass; anything else reading by reading."""
        missed = False
        if self._closed_skip:
            self._closed_skip -= 1
        else:
            try:
                struct = self._closed_snapshots_decoder.decode(raw)
            except _DECODE_ERRORS:
                missed = True
            else:
                try:
                    results, brackets = self._snapshots(struct, now, closed=True)
                except _Reject:
                    results, total = self._batch_by_reading(raw, now)
                    return results, total, False
                return results, brackets, True
        fallbacks = self.fallbacks
        try:
            results, total = self._snapshot_batch(raw, now)
        except _Reject:
            results, total = self._batch_by_reading(raw, now)
        if missed and self.fallbacks == fallbacks:  # a miss for unknown keys, not bad values
            self._closed_skip = _CLOSED_RETRY
        return results, total, False

    def _snapshots(self, struct: Any, now: datetime, closed: bool) -> tuple[Results, int]:
        """The readings of a decoded all-snapshot envelope struct, and their bracket count."""
        envelope_build = self._envelope.closed_build if closed else self._envelope.build
        snapshots = self._readings["snapshot"]
        build = snapshots.closed_build if closed else snapshots.build
        envelope, brackets = envelope_build(struct, now)
        vehicle_id = envelope.vehicle_id
        results: Results = []
        append = results.append
        for item in envelope.readings:
            if item.vehicle_id != vehicle_id:
                raise _Reject
            reading, count = build(item, now)
            append(reading)
            brackets += count
        return results, brackets

    def _snapshot_batch(self, raw: bytes, now: datetime) -> tuple[Results, int]:
        try:
            struct = self._snapshots_decoder.decode(raw)
        except _DECODE_ERRORS:
            raise _Reject from None
        return self._snapshots(struct, now, closed=False)

    def _batch_by_reading(self, raw: bytes, now: datetime) -> tuple[Results, int | None]:
        try:
            struct = self._envelope.decoder.decode(raw)
        except _DECODE_ERRORS:
            raise _Reject from None
        envelope, brackets = self._envelope.build(struct, now)
        assert isinstance(envelope, BatchEnvelope)
        vehicle_id = envelope.vehicle_id
        total: int | None = brackets
        results: Results = []
        context = make_context(self.limits, now)
        for index, item in enumerate(envelope.readings):
            data = bytes(item)
            shape = _sniff(data)
            try:
                if shape is None or shape == "batch":
                    raise _Reject
                reading, count, _typed = self._readings[shape].decode(data, now)
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

    def _reference(self, raw: Any, now: datetime) -> Results:
        self.fallbacks += 1
        return decode_telemetry(raw, self.limits, now)


__all__ = ["DerivationError", "FastDecoder", "derive_struct"]
