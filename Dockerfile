# Jumbe gateway image: `docker build -t jumbe .`, then see deploy/ (compose, Kubernetes).
# Wheel stage: the hop path compiled with mypyc (docs/architecture.md, "The compiled build").
# Compiling type-checks the package, so it runs where the runtime and dev dependencies are
# installed, and needs gcc (the full Debian image); the result is one wheel.
FROM python:3.11-bookworm AS wheel
WORKDIR /src
COPY requirements/main.lock requirements/dev.lock requirements/
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir --disable-pip-version-check \
        -r requirements/main.lock -r requirements/dev.lock
COPY pyproject.toml setup.py README.md ./
COPY gateway gateway
RUN JUMBE_COMPILE=1 /opt/build/bin/pip wheel --no-cache-dir --disable-pip-version-check \
        --no-build-isolation --no-deps --wheel-dir /wheels .

# Build stage: a virtualenv from the lockfile, then the compiled wheel.
FROM python:3.11-slim-bookworm AS build
COPY requirements/main.lock /tmp/main.lock
COPY --from=wheel /wheels /wheels
RUN python -m venv /opt/jumbe \
    && /opt/jumbe/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/main.lock \
    && /opt/jumbe/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps /wheels/*.whl

# Run stage: the virtualenv and the demo content folder (mount your own over /etc/jumbe/menus),
# running as an unprivileged user.
FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 jumbe \
    && useradd --system --uid 10001 --gid jumbe --home-dir /var/lib/jumbe --create-home jumbe
COPY --from=build /opt/jumbe /opt/jumbe
COPY menus /etc/jumbe/menus
ENV PATH=/opt/jumbe/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    JUMBE_MENUS=/etc/jumbe/menus \
    JUMBE_DATA_DIR=/var/lib/jumbe \
    JUMBE_HOST=0.0.0.0 \
    JUMBE_PORT=8000 \
    JUMBE_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/jumbe
EXPOSE 8000
# /healthz says the process serves (no Redis check: restarting would not help Redis).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('JUMBE_PORT', '8000')}/healthz\", timeout=2)"]
ENTRYPOINT ["jumbe"]
CMD ["serve"]
