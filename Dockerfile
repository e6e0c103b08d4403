# The service as a container image: gunicorn on port 8000, as a non-root user, static files built in.
# Build: docker build -t appointments .   Run: see compose.yaml and docs/operating.md.
# PYTHON_IMAGE: any Debian-based image with Python 3.11 to 3.13 as `python` (a mirror's copy of python:3.11-slim, say).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/production.txt requirements/production.txt
COPY config config
COPY accounts accounts
COPY appointments appointments
COPY claimants claimants
COPY meetings meetings
# The runtime dependencies only, from the lock (pinned with hashes), then the project itself.
RUN python -m venv /venv && /venv/bin/pip install --require-hashes -r requirements/production.txt \
    && /venv/bin/pip install --no-deps .

FROM ${PYTHON_IMAGE}
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json STATIC_USE_FINDERS=0 STATIC_ROOT=/app/staticfiles PORT=8000
RUN useradd --system --uid 10001 --home-dir /app appointments
WORKDIR /app
COPY --from=build /venv /venv
COPY manage.py ./
COPY config config
COPY accounts accounts
COPY appointments appointments
COPY claimants claimants
COPY meetings meetings
COPY templates templates
COPY static static
# collectstatic needs settings but no database or secret of the deployment: a throwaway key for this step only.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && chown -R appointments /app/staticfiles
USER appointments
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live').status != 200)"
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]
