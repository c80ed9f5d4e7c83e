"""deploy/Dockerfile: multi-stage, pinned bases, non-root, `voltstream` entrypoint."""

import json
import re

from tests.deploy.support import DEPLOY
from voltstream.settings import MetricsSettings

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_multi_stage_with_pinned_bases() -> None:
    froms = [rest for keyword, rest in instructions() if keyword == "FROM"]
    assert len(froms) >= 2
    for line in froms:
        image = line.split()[0]
        assert ":" in image or "@sha256:" in image, image
        assert not image.endswith(":latest"), image
    assert any(k == "COPY" and r.startswith("--from=") for k, r in instructions())


def test_runs_as_non_root_voltstream() -> None:
    final = instructions()
    last_from = max(i for i, (k, _) in enumerate(final) if k == "FROM")
    stage = final[last_from:]
    users = [rest for keyword, rest in stage if keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    entrypoint = [rest for keyword, rest in stage if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint[-1]) == ["voltstream"]
    exposed = [rest for keyword, rest in stage if keyword == "EXPOSE"]
    assert str(MetricsSettings().port) in exposed
    assert any(k == "HEALTHCHECK" for k, _ in stage)


def test_dockerignore_keeps_the_context_small() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text()
    assert "**" in ignore.splitlines()
    for package in ("schemas", "streams", "consumers", "voltstream", "sql"):
        assert f"!{package}/**" in ignore
