FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
# Static files are collected into the image; whitenoise serves them with far-future cache headers.
RUN DJANGO_SECRET_KEY=build-only NSS_ENCRYPTION_KEYS= DJANGO_STATICFILES_STORAGE=whitenoise.storage.CompressedManifestStaticFilesStorage \
    DJANGO_STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput
ENV DJANGO_STATIC_ROOT=/app/staticfiles
RUN useradd --create-home nss && mkdir -p /app/var && chown nss /app/var
USER nss
