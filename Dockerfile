# The hub's production image. Build context: the repository root.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY adapters ./adapters
COPY rules ./rules
COPY web ./web
# /var/lib/hub-shared: the folder every worker mounts (HUB_SHARED_DIR); a named volume takes
# the owner of the image's folder on first use
RUN pip install . && useradd --system --home /var/lib/hub hub \
    && mkdir -p /var/lib/hub /var/lib/hub-shared && chown hub /var/lib/hub /var/lib/hub-shared
USER hub
ENV HUB_ENV=production HUB_DATA_DIR=/var/lib/hub HUB_HOST=0.0.0.0 HUB_WEB_DIR=/app/web
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status == 200 else 1)"
CMD ["hub", "run"]
