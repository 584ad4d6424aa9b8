# resolver as a container: the daemon, its state in the /data volume.
#   docker build -t resolver .
#   docker run -v resolver-data:/data -p 8080:8080 resolver

# -- build: a virtual environment with resolver and its dependencies ----------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY resolver ./resolver
COPY sources ./sources
COPY state ./state
# The venv gets no pip of its own; the build stage's pip installs into it. sqlite-utils
# declares pip as a dependency (for its `install` subcommand, which resolver never runs), so
# it is removed again. Bytecode is compiled here: the non-root user cannot write it later.
RUN python -m venv --without-pip /opt/resolver \
    && python -m pip --python /opt/resolver/bin/python install --no-compile . \
    && python -m pip --python /opt/resolver/bin/python uninstall -y -q pip \
    && /opt/resolver/bin/python -m compileall -q /opt/resolver

# -- final: the venv on a clean base, no pip, setuptools, compilers or caches -----------------
FROM python:3.11-slim-bookworm
RUN rm -rf /usr/local/lib/python3.11/site-packages/pip \
           /usr/local/lib/python3.11/site-packages/pip-* \
           /usr/local/lib/python3.11/site-packages/setuptools \
           /usr/local/lib/python3.11/site-packages/setuptools-* \
           /usr/local/lib/python3.11/site-packages/wheel \
           /usr/local/lib/python3.11/site-packages/wheel-* \
           /usr/local/bin/pip /usr/local/bin/pip3 /usr/local/bin/pip3.11 \
           /root/.cache \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
               --shell /usr/sbin/nologin resolver \
    && mkdir -p /data && chown resolver:resolver /data
COPY --from=build /opt/resolver /opt/resolver
ENV PATH=/opt/resolver/bin:$PATH \
    RESOLVER_STATE_DIR=/data \
    RESOLVER_HTTP_HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
VOLUME /data
EXPOSE 8080
USER resolver
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["resolver", "health"]
ENTRYPOINT ["resolver"]
CMD ["run"]
