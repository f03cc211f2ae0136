# dsbot in a container: docs/self-hosting.md ("With Docker") shows how to run it with compose.yaml.

# Build stage: install dsbot and its dependencies into a virtual environment.
FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN python -m venv /opt/dsbot/.venv \
    && /opt/dsbot/.venv/bin/pip install .

# Run stage: the same base image (the venv's interpreter path), no build tools, no sources.
FROM python:3.11.11-slim-bookworm
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home dsbot \
    && mkdir /data && chown dsbot:dsbot /data && chmod 0750 /data
COPY --from=build /opt/dsbot/.venv /opt/dsbot/.venv
# The database (and yfinance's cache beside it) live in the volume; the HTTP server listens on
# all interfaces inside the container so that the published port and HEALTHCHECK reach it.
ENV PATH=/opt/dsbot/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DSBOT_DATABASE=/data/dsbot.sqlite3 \
    DSBOT_HTTP_LISTEN=0.0.0.0:8080
USER dsbot
WORKDIR /data
VOLUME /data
EXPOSE 8080
# The slim image has no curl: Python's urllib asks /healthz, and any error or non-2xx fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# SIGTERM (docker stop) lets pending replies and votes finish; dsbot is PID 1 in exec form.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dsbot"]
CMD ["run"]
