FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
WORKDIR /app
# WeasyPrint's libraries and fonts, for the PDF of the ID notice (the Makefile's PDF_PACKAGES).
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
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
