# The hub's production image. Build context: the repository root.

# The pages' browser libraries (Leaflet, Swagger UI, QR codes) from npm, pinned by the lock
# file: the hub serves them itself, and `hub run` refuses to start without them.
FROM node:20-bookworm-slim AS web-libraries
WORKDIR /vendor
COPY web/vendor/package.json web/vendor/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY adapters ./adapters
COPY rules ./rules
COPY web ./web
COPY --from=web-libraries /vendor/node_modules ./web/vendor/node_modules
# postgresql-client: pg_dump and pg_restore for `hub backup` / `hub restore`
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
# /var/lib/hub-shared: the folder every worker mounts (HUB_SHARED_DIR); a named volume takes
# the owner of the image's folder on first use
RUN pip install . && useradd --system --home /var/lib/hub hub \
    && mkdir -p /var/lib/hub /var/lib/hub-shared && chown hub /var/lib/hub /var/lib/hub-shared
USER hub
ENV HUB_ENV=production HUB_DATA_DIR=/var/lib/hub HUB_HOST=0.0.0.0 HUB_WEB_DIR=/app/web
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status == 200 else 1)"
CMD ["hub", "run"]
