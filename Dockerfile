# syntax=docker/dockerfile:1
# Build: install the project into a virtual environment.
FROM python:3.12-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /venv
COPY pyproject.toml README.md bootstrap.py ./
COPY domain domain
COPY adapters adapters
COPY entrypoints entrypoints
RUN /venv/bin/pip install --no-cache-dir .

# Run: the environment alone, as an unprivileged user.
FROM python:3.12-slim-bookworm
RUN useradd --system --uid 10001 --no-create-home users-api && mkdir /data && chown 10001 /data
COPY --from=build /venv /venv
# With no USERS_DATABASE_URL the store is /data/users.db (SQLite); keep /data on a volume.
WORKDIR /data
VOLUME /data
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 USERS_HOST=0.0.0.0
USER 10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2)"]
CMD ["users-api", "serve"]
