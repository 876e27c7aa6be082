"""Static checks of docker-compose.yml and the Dockerfile.

No Docker engine runs here or in CI, so the compose file is checked as data: its structure,
the Compose Specification schema (the copy that the check-jsonschema package ships), and the
`reminders ...` commands it runs, against the real CLI.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import yaml
from typer.testing import CliRunner

from reminders.cli import app as cli_app
from reminders.config import Settings
from reminders.monitoring import heartbeat

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus.yml"
APP_IMAGE = "reminders:local"
APP_SERVICES = {"init", "web", "worker", "scheduler"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
REQUIRED_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?")
OPTION = re.compile(r"^--[a-z][a-z0-9-]*")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict) and found, "docker-compose.yml has no services"
    return found


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """The service's dependencies as {name: condition}; the short list form means started."""
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return {name: "service_started" for name in value}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in value.items()}


def one_shots(services: dict[str, dict[str, Any]]) -> set[str]:
    """Services that others wait on to exit successfully."""
    return {
        name
        for service in services.values()
        for name, condition in depends_on(service).items()
        if condition == "service_completed_successfully"
    }


def command_words(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def reminders_commands(services: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """{service: [subcommand, args...]} for the services that run the `reminders` CLI."""
    found = {}
    for name, service in services.items():
        words = command_words(service)
        if words[:1] == ["reminders"]:
            found[name] = words[1:]
    return found


def app_services(services: dict[str, dict[str, Any]]) -> set[str]:
    """The services that run our image."""
    return {name for name, service in services.items() if service.get("image") == APP_IMAGE}


def published(service: dict[str, Any]) -> list[str]:
    return [str(mapping) for mapping in service.get("ports") or []]


def app_variable_names() -> set[str]:
    """The environment variable names that Settings reads."""
    return {(field.alias or name).upper() for name, field in Settings.model_fields.items()}


def test_it_is_a_compose_specification_file_without_a_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose Specification has no `version:`; remove it"
    assert set(compose) <= {"name", "services", "volumes", "networks", "configs", "secrets"} | {
        key for key in compose if key.startswith("x-")
    }


def test_it_gives_every_service_a_healthcheck_except_the_one_shot_init(
    services: dict[str, dict[str, Any]],
) -> None:
    assert one_shots(services) == {"init"}
    assert services["init"].get("restart", "no") == "no", "a one-shot must not be restarted"
    for name, service in services.items():
        if name == "init":
            continue
        check = service.get("healthcheck")
        assert check, f"service {name!r} has no healthcheck"
        assert not check.get("disable"), f"service {name!r} disables its healthcheck"
        test = check.get("test")
        assert test and test not in (["NONE"], "NONE"), f"service {name!r}: empty healthcheck"


def test_it_depends_only_on_existing_services_with_valid_conditions(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target!r}"
            assert target != name, f"{name} depends on itself"
            assert condition in CONDITIONS, f"{name} -> {target}: bad condition {condition!r}"
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{target} has no healthcheck"


def test_it_starts_services_in_an_order_without_cycles(
    services: dict[str, dict[str, Any]],
) -> None:
    remaining = {name: set(depends_on(service)) for name, service in services.items()}
    while remaining:
        ready = {name for name, needs in remaining.items() if not needs & remaining.keys()}
        assert ready, f"depends_on cycle among {sorted(remaining)}"
        for name in ready:
            del remaining[name]


def test_it_waits_for_what_each_app_process_needs(services: dict[str, dict[str, Any]]) -> None:
    assert depends_on(services["init"]) == {"postgres": "service_healthy"}
    for name in ("web", "worker", "scheduler"):
        needs = depends_on(services[name])
        assert needs.get("init") == "service_completed_successfully", name
        assert needs.get("redis") == "service_healthy", name


def test_it_requires_secret_key_and_no_other_variable() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert set(REQUIRED_VARIABLE.findall(text)) == {"SECRET_KEY"}


def test_it_gives_every_app_service_the_required_secret_key(
    services: dict[str, dict[str, Any]],
) -> None:
    assert app_services(services) == APP_SERVICES
    for name in APP_SERVICES:
        secret = str(services[name]["environment"]["SECRET_KEY"])
        assert secret.startswith("${SECRET_KEY:?"), f"{name}: SECRET_KEY is not required"


def test_it_passes_only_variables_the_app_reads(services: dict[str, dict[str, Any]]) -> None:
    known = app_variable_names()
    for name in app_services(services):
        service = services[name]
        environment = service["environment"]
        assert isinstance(environment, dict), f"{name}: use the mapping form of environment"
        unknown = set(environment) - known
        assert not unknown, f"{name}: variables the app does not read: {sorted(unknown)}"


def test_it_defaults_to_console_sms_and_mailpit_smtp(services: dict[str, dict[str, Any]]) -> None:
    environment = services["worker"]["environment"]
    assert environment["SMS_TRANSPORT"] == "${SMS_TRANSPORT:-console}"
    assert environment["EMAIL_TRANSPORT"] == "${EMAIL_TRANSPORT:-smtp}"
    assert environment["SMTP_HOST"] == "${SMTP_HOST:-mailpit}"
    assert environment["SMTP_PORT"] == "${SMTP_PORT:-1025}"
    assert environment["SMTP_SECURITY"] == "${SMTP_SECURITY:-none}"
    for twilio in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        assert environment[twilio] == f"${{{twilio}:-}}"


def test_it_validates_against_the_compose_specification_schema(compose: dict[str, Any]) -> None:
    import check_jsonschema  # noqa: F401  (a dev dependency: it ships compose-spec.json)
    from jsonschema import Draft202012Validator

    schema_file = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema.get("title") == "Compose Specification"
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(compose)
    ]
    assert not errors, "\n".join(errors)

    # The schema is strict enough to notice a mistake like this one.
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["depends_on"]["init"]["condition"] = "service_finished"
    assert not validator.is_valid(broken)


def test_it_runs_only_cli_commands_and_options_that_exist(
    services: dict[str, dict[str, Any]],
) -> None:
    commands = reminders_commands(services)
    assert {words[0] for words in commands.values()} == {"init", "web", "worker", "scheduler"}
    runner = CliRunner()
    for name, (command, *arguments) in commands.items():
        result = runner.invoke(cli_app, [command, "--help"])
        assert result.exit_code == 0, (
            f"{name}: `reminders {command} --help` failed:\n{result.output}"
        )
        for argument in arguments:
            option = OPTION.match(argument)
            if option is None:
                continue
            pattern = rf"(?<![\w-]){re.escape(option.group())}(?![\w-])"
            assert re.search(pattern, result.output), (
                f"{name}: `reminders {command}` has no option {option.group()}"
            )


def test_it_probes_the_port_the_web_command_listens_on(
    services: dict[str, dict[str, Any]],
) -> None:
    web = services["web"]
    words = command_words(web)
    port = words[words.index("--port") + 1]
    assert words[words.index("--host") + 1] == "0.0.0.0", "web must listen beyond localhost"
    assert any(str(mapping).endswith(f":{port}") for mapping in web["ports"])
    probe = " ".join(web["healthcheck"]["test"])
    url = re.search(r"https?://[^'\"\s]+", probe)
    assert url, "the web healthcheck names no URL"
    parts = urlsplit(url.group())
    assert (parts.port, parts.path) == (int(port), "/healthz")


def test_it_uses_python_healthchecks_that_compile(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        test = (service.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test[:3] == ["CMD", "python", "-c"]:
            compile(test[3], f"<{name} healthcheck>", "exec")


def test_it_builds_a_non_root_image_that_finds_the_templates() -> None:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)
    final = stages[-1]
    assert final.startswith("python:3.11-slim")
    assert re.search(r"\bTEMPLATES_DIR=/app/templates\b", final)
    assert "TEMPLATES_DIR" in app_variable_names()
    assert re.search(r"^COPY templates /app/templates$", final, flags=re.MULTILINE)
    users = re.findall(r"^USER (\S+)$", final, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert (ROOT / "templates" / "messages").is_dir() and (ROOT / "templates" / "plans").is_dir()


def test_it_builds_one_image_and_runs_it_for_every_app_process(
    services: dict[str, dict[str, Any]],
) -> None:
    builders = {name for name, service in services.items() if "build" in service}
    assert builders == {"init"}, "build the image once; the other app services reuse its tag"
    assert app_services(services) == APP_SERVICES
    # Everything else waits for init, so the image exists before they start.
    for name in APP_SERVICES - {"init"}:
        assert depends_on(services[name])["init"] == "service_completed_successfully"


def test_it_keeps_the_default_small_and_the_extras_in_profiles(
    services: dict[str, dict[str, Any]],
) -> None:
    profiles = {name: tuple(service.get("profiles") or ()) for name, service in services.items()}
    assert {name for name, chosen in profiles.items() if not chosen} == {
        "redis",
        "postgres",
        *APP_SERVICES,
    }
    assert profiles["mailpit"] == ("dev",)
    assert profiles["flower"] == profiles["prometheus"] == ("monitoring",)
    # A default service may use one from a profile only if it starts without it.
    for name, service in services.items():
        for target in depends_on(service):
            if set(profiles[target]) - set(profiles[name]):
                spec = service["depends_on"][target]
                assert spec.get("required") is False, f"{name} needs {target} from a profile"


def test_it_publishes_only_the_web_app_beyond_this_host(
    services: dict[str, dict[str, Any]],
) -> None:
    # Mailpit's inbox holds every patient's email with no password; Flower and Prometheus
    # are for the operator on the host (or through an SSH tunnel).
    assert published(services["mailpit"]) == ["127.0.0.1:8025:8025"]
    for name, service in services.items():
        if name == "web":
            continue
        for mapping in published(service):
            assert mapping.startswith("127.0.0.1:"), f"{name} publishes {mapping} to every host"


def test_prometheus_scrapes_the_web_metrics_with_the_metrics_token(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    # Given the scrape config compose hands to Prometheus
    configs = compose["configs"]
    mounted = {c["source"]: c["target"] for c in services["prometheus"]["configs"]}
    assert (ROOT / configs["prometheus_config"]["file"]).resolve() == PROMETHEUS_FILE
    assert mounted["prometheus_config"] == "/etc/prometheus/prometheus.yml"
    scrape = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    (job,) = scrape["scrape_configs"]

    # Then it scrapes the web container on the port its command listens on, at /metrics
    words = command_words(services["web"])
    assert job["static_configs"] == [{"targets": [f"web:{words[words.index('--port') + 1]}"]}]
    assert job["metrics_path"] == "/metrics"
    # with METRICS_TOKEN as its bearer token, the same variable the app reads
    assert job["authorization"]["type"] == "Bearer"
    assert job["authorization"]["credentials_file"] == mounted["metrics_token"]
    assert configs["metrics_token"]["content"] == "${METRICS_TOKEN:-}"
    assert "METRICS_TOKEN" in app_variable_names()
    for name in APP_SERVICES:
        assert services[name]["environment"]["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"


def test_the_scheduler_healthcheck_reads_its_heartbeat(
    services: dict[str, dict[str, Any]], redis_url: str, tmp_path: Path
) -> None:
    # Given the scheduler container's healthcheck, run as the container would
    probe = services["scheduler"]["healthcheck"]["test"]
    assert probe[:3] == ["CMD", "python", "-c"]
    queue = f"reminders-test-compose-{os.getpid()}"
    env = {"PATH": os.environ["PATH"], "REDIS_URL": redis_url, "TASK_QUEUE": queue}

    def healthy() -> bool:
        run = subprocess.run(
            [sys.executable, "-c", probe[3]], env=env, cwd=tmp_path, timeout=60, check=False
        )
        return run.returncode == 0

    settings = Settings(_env_file=None, redis_url=redis_url, task_queue=queue)
    broker = redis.Redis.from_url(redis_url)
    try:
        # When no scheduler ever ticked, then when one just did
        assert not healthy()
        heartbeat.record_tick(settings)
        assert healthy()
    finally:
        broker.delete(heartbeat.key(settings))
