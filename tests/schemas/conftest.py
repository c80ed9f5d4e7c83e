"""The `decode` fixture: every test using it runs against both decoders."""

import pytest

from tests.schemas.payloads import Decode, fast_decode, reference_decode


@pytest.fixture(params=["reference", "fast"])
def decode(request: pytest.FixtureRequest) -> Decode:
    """Each test using it runs against both decoders: they must behave identically."""
    return reference_decode if request.param == "reference" else fast_decode
