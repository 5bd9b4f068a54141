# imgserv in a container: the same code and settings as `make run` and deploy/install.sh, one
# process per container (docker-compose.yml runs the web server, the worker and a one-off
# set-up). Non-root; everything it writes goes to /data (a volume).
FROM python:3.11-slim-bookworm

# ffmpeg: the capture fallback and benchmarks' CLI; rsync and the ssh client (and sshpass for
# `publish setup-vps`): publishing; fonts: the overlay; tzdata: the cameras' time zones.
# Not pinned to Debian versions: the stable release only gets security fixes, which we want.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates ffmpeg fonts-dejavu-core openssh-client rsync sshpass tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 imgserv \
    && useradd --system --uid 10001 --gid imgserv --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin imgserv \
    && install -d -o imgserv -g imgserv -m 0750 /data

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IMGSRV_DATA_DIR=/data \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072

WORKDIR /app
# The requirements first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
# The code stays root's: the service can read it, not change it.
COPY . .

# Numeric, so that Kubernetes' runAsNonRoot can check it without the image's passwd file.
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["python", "-m", "daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "imgserv_site.asgi:application"]
