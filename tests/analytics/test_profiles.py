"""Calibration profiles and their resolution."""

import dataclasses

import pytest

from streams.analytics.profiles import (
    DEFAULT_PROFILE,
    PROFILES,
    UnknownProfileError,
    resolve_profile,
)


def test_default_is_nmc() -> None:
    assert resolve_profile() is DEFAULT_PROFILE
    assert DEFAULT_PROFILE.chemistry == "NMC"


@pytest.mark.parametrize("name", ["nmc", "lfp", "nca", "acme-e60"])
def test_named_profiles_resolve(name: str) -> None:
    assert resolve_profile(name).name == name
    assert resolve_profile(name.upper()).name == name


def test_chemistry_and_model_resolution() -> None:
    assert resolve_profile(chemistry="LFP").name == "lfp"
    assert resolve_profile(chemistry=" nca ").name == "nca"
    assert resolve_profile(make="ACME", model="E60", chemistry="LFP").name == "acme-e60"
    assert resolve_profile(chemistry="sodium-ion") is DEFAULT_PROFILE


def test_unknown_name_raises() -> None:
    with pytest.raises(UnknownProfileError):
        resolve_profile("no-such-profile")


def test_profiles_are_frozen_and_bands_ordered() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_PROFILE.imbalance_warning_v = 1.0  # type: ignore[misc]
    for p in PROFILES.values():
        assert p.imbalance_warning_v < p.imbalance_major_v < p.imbalance_critical_v
        assert p.overheat_warning_c < p.overheat_major_c < p.overheat_critical_c
        assert p.low_soh_major_percent < p.low_soh_warning_percent
        assert p.cell_min_v < p.cell_nominal_v < p.cell_max_v
        assert p.deep_discharge_soc_percent < p.deep_discharge_rearm_soc_percent
