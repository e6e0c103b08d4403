# The service as a container image: gunicorn on port 8000, as a non-root user, static files built in.
# Build: docker build -t appointments .   Run: see compose.yaml and docs/operating.md.
# The build context is the project as a whole less what .dockerignore leaves out. CI performs these steps without a
# Docker engine (.ci/image.py): keep to the instructions it reads, and the image's files under /app, /venv, /wheels.
# PYTHON_IMAGE: any Debian-based image with Python 3.11 to 3.13 as `python` (a mirror's copy of python:3.11-slim, say).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The runtime dependencies only, from the lock (pinned with hashes): this layer is built again only when it changes.
COPY requirements/production.txt requirements/production.txt
RUN python -m venv /venv && /venv/bin/pip install --require-hashes -r requirements/production.txt
# Then the project, built as a wheel and installed into the same environment.
COPY . .
RUN /venv/bin/pip wheel --no-deps --wheel-dir /wheels . && /venv/bin/pip install --no-deps /wheels/*.whl

FROM ${PYTHON_IMAGE}
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json STATIC_USE_FINDERS=0 STATIC_ROOT=/app/staticfiles PORT=8000
RUN useradd --system --uid 10001 --home-dir /app appointments
WORKDIR /app
COPY --from=build /venv /venv
COPY . .
# collectstatic needs settings but no database or secret of the deployment: a throwaway key for this step only.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && python -m config.translations \
    && chown -R appointments /app/staticfiles
USER appointments
EXPOSE 8000
# /health/live as the service's clients reach it: with a Host of ALLOWED_HOSTS, and over HTTP also with HTTPS=1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD python -m config.healthcheck
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]
