# Production-like image: gunicorn + whitenoise for web; the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

# WeasyPrint renders record PDFs with Pango; fonts for legible PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY qms ./qms
COPY tenants ./tenants
RUN pip install .
COPY . .

# collectstatic needs settings to load; these values are for the build step only.
RUN SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret ALLOWED_HOSTS=build \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput -v 0

RUN useradd --system --uid 10001 --home /app qms && mkdir -p /app/var && chown -R qms /app/var
USER qms
EXPOSE 8000
CMD ["gunicorn", "qms.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
