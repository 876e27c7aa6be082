# syntax=docker/dockerfile:1
# The aftercare reminders image: one image for every process (init, web, worker, scheduler).
# docker-compose.yml says which command each container runs.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# README* may be absent; an unmatched wildcard copies nothing.
COPY pyproject.toml README* ./
COPY reminders ./reminders
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TEMPLATES_DIR=/app/templates
# The package lives in site-packages, so the default templates_dir (the project root beside
# the package) does not exist here: TEMPLATES_DIR points at the copy below.
RUN groupadd --system --gid 10001 reminders \
    && useradd --system --uid 10001 --gid reminders --home-dir /app --shell /usr/sbin/nologin reminders
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
COPY templates /app/templates
USER reminders
EXPOSE 8000
CMD ["reminders", "web", "--host", "0.0.0.0", "--port", "8000"]
